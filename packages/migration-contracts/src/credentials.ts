// Recognises credentials written where only names belong, and keeps them out of every Issue:
// an issue is shown to humans, logged and written into receipts, so it must never echo a secret.
import type { Issue } from './errors.js';

/** Connection strings with credentials, key=value secrets and key material. */
export function looksLikeCredential(value: string): boolean {
  return (
    /[a-z][a-z0-9+.-]*:\/\/[^\s/@]*:[^\s/@]*@/i.test(value) ||
    /\b(password|passwd|pwd|secret|token|api[_-]?key)\s*[=:]\s*\S/i.test(value) ||
    /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value) ||
    /\bAKIA[0-9A-Z]{16}\b/.test(value)
  );
}

/** What an issue says instead of a value that looks like a credential. */
export function credentialPlaceholder(value: string): string {
  return `a string of ${value.length} characters that looks like a credential (not shown)`;
}

/**
 * Returns the issue unchanged when it holds nothing credential-like; otherwise a copy whose pointer
 * is cut back to the nearest clean ancestor (a mapping key can be the secret) and whose texts are
 * replaced. `redacted` tells the caller a secret was present.
 */
export function redactIssue(issue: Issue): { issue: Issue; redacted: boolean } {
  let redacted = false;
  const copy: Issue = { ...issue };
  // Pointers escape `/` as `~1`, which would hide `scheme://` from the check: test the decoded form.
  const leaks = (pointer: string) => looksLikeCredential(pointer.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (copy.pointer !== undefined && leaks(copy.pointer)) {
    const segments = copy.pointer.split('/');
    while (segments.length > 1 && leaks(segments.join('/'))) segments.pop();
    copy.pointer = segments.join('/');
    redacted = true;
  }
  for (const field of ['message', 'expected', 'found', 'file'] as const) {
    const text = copy[field];
    if (text !== undefined && looksLikeCredential(text)) {
      copy[field] =
        field === 'message' ? 'a value that looks like a credential is not allowed here' : credentialPlaceholder(text);
      redacted = true;
    }
  }
  return { issue: redacted ? copy : issue, redacted };
}
