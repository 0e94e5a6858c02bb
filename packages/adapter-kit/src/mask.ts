// Secret masking: connection values never reach a message. Drivers echo DSNs, user names and
// passwords in errors; every text that leaves an adapter passes through a sanitizer first.

/** URLs with credentials, key=value passwords, and the quoted user/role names servers echo. */
const GENERIC_SECRETS: [RegExp, string][] = [
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@'],
  [/\b(password|user)\s*=\s*\S+/gi, '$1=***'],
  [/\b(user|role)\s+"[^"]*"/gi, '$1 "***"'],
];

export type Sanitize = (message: string) => string;

/** Masks every given secret (longest first, so a DSN is masked whole before its parts) and the generic patterns. */
export function sanitizer(secrets: readonly (string | undefined)[]): Sanitize {
  // Very short values would mask innocent text; the generic patterns cover where drivers echo them.
  const values = [
    ...new Set(secrets.filter((value): value is string => typeof value === 'string' && value.length >= 3)),
  ].sort((a, b) => b.length - a.length);
  return (message: string) => {
    let result = message;
    for (const value of values) result = result.split(value).join('***');
    for (const [pattern, replacement] of GENERIC_SECRETS) result = result.replace(pattern, replacement);
    return result;
  };
}

/** Drops anything URL-shaped from a text: an error message may echo a node URL with credentials. */
export function withoutUrls(text: string): string {
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/\S*/gi, '<url>').replace(/\b[^\s:@/]+:[^\s:@/]+@/g, '<credentials>@');
}

/** An error's message, sanitized and bounded (servers can quote offending values at length). */
export function errorText(error: unknown, sanitize: Sanitize, limit = 400): string {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const excerpt = message.length > limit ? `${message.slice(0, limit)}…` : message;
  return sanitize(typeof code === 'string' && !message.includes(code) ? `${code}: ${excerpt}` : excerpt);
}
