// How a ticket names its customer: the name and code it carries (the agent working it may not
// see the customer's record), else the id.

export function ticketCustomer(ticket: {
  customer_id: number
  customer_name?: string | null
  customer_code?: string | null
}): string {
  return ticket.customer_name ?? ticket.customer_code ?? `#${ticket.customer_id}`
}
