/**
 * What an app's credentials are made of: the algorithms its tokens may be signed with and the scopes it may hold.
 * Tenancy owns this vocabulary (it stores apps); auth reads it to check a token, so auth depends on tenancy and
 * never the reverse.
 */
export const SUPPORTED_ALGORITHMS = ['HS256', 'RS256', 'ES256'] as const;
export type Algorithm = (typeof SUPPORTED_ALGORITHMS)[number];

/** The scope the Contacts API requires (the vendor's name for it). */
export const CONFIGURATION_SCOPE = 'Configuration';
