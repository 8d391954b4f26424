/** The stream a request works on, and the account that owns it: every query is scoped to both. */
export interface Tenant {
  streamId: string;
  accountId: string;
}

/** Who writes: recorded as createdBy / updatedBy (the user) and createdByAId / updatedByAId (the app). */
export interface Actor {
  orgId: string;
  userId: string;
  appId: string;
}
