// Names for the API's schemas, taken from the generated spec types: a change in the API
// that the UI does not follow is a type error here or where these are used.
import type { components, paths } from './schema'

type S = components['schemas']

export type Customer = S['Customer']
export type CustomerDetail = S['CustomerDetail']
export type CustomerCreate = S['CustomerCreate']
export type CustomerUpdate = S['CustomerUpdate']
export type CustomerLevel = S['CustomerLevel']
export type CustomerStatus = S['CustomerStatus']
export type CustomerType = S['CustomerType']
export type CompanySize = S['CompanySize']
export type CreditRating = S['CreditRating']
export type Contact = S['Contact']
export type ContactCreate = S['ContactCreate']
export type ContactUpdate = S['ContactUpdate']
export type Address = S['Address']
export type AddressCreate = S['AddressCreate']
export type AddressUpdate = S['AddressUpdate']
export type AddressType = S['AddressType']
export type LevelHistoryEntry = S['LevelHistoryEntry']
export type Approval = S['Approval']
export type ApprovalStatus = S['ApprovalStatus']
export type AuditEntry = S['AuditEntry']
export type Me = S['Me']
export type Role = S['Role']
export type Region = S['Region']
export type Token = S['Token']
export type Problem = S['Problem']
export type FieldError = S['FieldError']

export type CustomerQuery = NonNullable<paths['/api/v1/crm/customers']['get']['parameters']['query']>
export type CustomerSort = NonNullable<CustomerQuery['sort']>
export type RevealableContactField = S['ContactReveal']['field']
export type RevealableAddressField = S['AddressReveal']['field']

export const LEVELS: readonly CustomerLevel[] = ['A', 'B', 'C', 'D']
export const STATUSES: readonly CustomerStatus[] = ['active', 'inactive', 'blacklist']
export const CUSTOMER_TYPES: readonly CustomerType[] = ['enterprise', 'individual']
export const COMPANY_SIZES: readonly CompanySize[] = ['small', 'medium', 'large']
export const CREDIT_RATINGS: readonly CreditRating[] = ['AAA', 'AA', 'A', 'BBB', 'BB', 'B', 'C']
export const ADDRESS_TYPES: readonly AddressType[] = ['office', 'billing', 'shipping', 'home']
export const APPROVAL_STATUSES: readonly ApprovalStatus[] = ['pending', 'approved', 'rejected', 'failed']
export const REGIONS: readonly Region[] = ['华东', '华南', '华北', '华中', '西南', '西北', '东北']
