import { describe, expect, it } from 'vitest'
import { ticketCustomer } from './tickets'

describe('ticketCustomer', () => {
  it('names the customer from the ticket itself', () => {
    expect(ticketCustomer({ customer_id: 7, customer_name: '杭州暖通科技有限公司', customer_code: 'C00000007' })).toBe(
      '杭州暖通科技有限公司',
    )
  })
  it('falls back to the code, then the id', () => {
    expect(ticketCustomer({ customer_id: 7, customer_name: null, customer_code: 'C00000007' })).toBe('C00000007')
    expect(ticketCustomer({ customer_id: 7 })).toBe('#7')
  })
})
