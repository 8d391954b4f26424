/** The stream a request works on, and the account that owns it: every query is scoped to both. */
export interface Tenant {
  streamId: string;
  accountId: string;
}

/** Who writes: recorded as createdBy / updatedBy (the user) and createdByAId / updatedByAId (the app). */
export interface Actor {
  orgId: string;
  /** The app's owner, written to createdBy / updatedBy. */
  userId: string;
  /** The app's id (`a-…`), written to createdByAId / updatedByAId. */
  appId: string;
}

/** Who is calling and on which stream: what every write records and every read is scoped to. */
export type RequestContext = Tenant & Actor;
