/** A mistake in how the CLI was called: printed as one line, like a domain error. */
export class UsageError extends Error {}
