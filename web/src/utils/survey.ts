// Survey links as the API issues them (`<base>/survey/<token>`) and as the served UI can open them.

/**
 * The link to send a customer. The API's token is a signed JWT with dots in it; the server's
 * web UI route answers 404 for a last path segment with a dot (it takes it for a missing
 * file), so the token goes in the query instead: `<base>/survey?token=<token>`.
 */
export function surveyLink(url: string, origin: string = location.origin): string {
  const parsed = new URL(url, origin)
  const match = /^(.*)\/survey\/([^/]+)$/.exec(parsed.pathname)
  if (!match) return parsed.toString()
  parsed.pathname = `${match[1]}/survey`
  parsed.search = new URLSearchParams({ token: decodeURIComponent(match[2] ?? '') }).toString()
  return parsed.toString()
}
