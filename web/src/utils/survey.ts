// Survey links as the API issues them (`<base>/survey/<token>`).

/**
 * The link to send a customer: the API's `survey.url` as it is (the server serves
 * `/survey/<token>` although the signed token has dots in it), made absolute against the
 * UI's origin when the API gave a relative one. Older links with `?token=` still open.
 */
export function surveyLink(url: string, origin: string = location.origin): string {
  return new URL(url, origin).toString()
}
