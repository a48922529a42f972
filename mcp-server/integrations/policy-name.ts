/**
 * A policy named over HTTP (a webhook's metadata, a registration body): a plain relative path,
 * resolved under serve's --policies directory. No '.' or '..' segment and no leading '/', so the
 * name alone can never leave that directory.
 */
export const POLICY_NAME = /^(?!.*(?:^|\/)\.\.?(?:\/|$))[A-Za-z0-9_][A-Za-z0-9._/-]{0,255}$/;
