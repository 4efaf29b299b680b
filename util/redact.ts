// No credential in a message: the one helper every error, log line and HTTP answer that may carry
// a URL goes through. A URL's user info (`http://user:password@host`) is replaced by `***`,
// whatever the scheme, and also in gRPC's target form (`dns:user:password@host:port`), which is
// how etcd3 echoes an endpoint in its errors.
//
// wren refuses user info in its own settings (config.ts: etcd credentials come from
// ETCD_USERNAME/ETCD_PASSWORD), so this is the second line: anything that still carries a
// URL — a library's error, a kubeconfig's server — is shown without its secret.

/**
 * A scheme, then user info up to an `@`. The user info stops at whitespace, `/`, quotes,
 * backslashes and angle brackets, so a match never runs across two JSON strings or two words;
 * a comma is allowed (a password may hold one, and endpoints are joined with it).
 */
const USER_INFO = /\b([a-z][a-z0-9+.-]*:(?:\/\/)?)[^\s/@"'\\<>]+@/gi;

export const REDACTED = '***';

export function redactUrls(text: string): string {
  return text.includes('@') ? text.replace(USER_INFO, `$1${REDACTED}@`) : text;
}

/** Whether a URL names a user or password (`scheme://user[:password]@host`). */
export function hasUserInfo(url: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url.trim());
}
