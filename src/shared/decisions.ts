// What a decision (approve, reject, pause, resume, cancel) may carry. Checked by the update validators, so a refused
// decision never enters history, and by the CLI before it sends one. Plain functions: no Temporal, no Node.

/** Control, format (zero-width, bidi), line/paragraph separator, private-use and unassigned characters. */
const invisible = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}]/u;
const visible = /[^\p{White_Space}\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

export const maxNameLength = 100;
export const maxCommentLength = 1_000;

/**
 * The problem with a decider's name, or undefined: 1–100 characters (code points) with at least one visible, and no
 * control, format or zero-width character. An audit trail must show who decided, the same way on every screen.
 */
export function nameProblem(by: unknown, what = '`by`'): string | undefined {
  if (typeof by !== 'string' || by.trim() === '') return `${what} is required: name the person deciding.`;
  if (invisible.test(by)) return `${what} holds a control, format or zero-width character: type the name plainly.`;
  if (!visible.test(by)) return `${what} must hold a visible character.`;
  if ([...by.trim()].length > maxNameLength) return `${what} must be at most ${maxNameLength} characters.`;
  return undefined;
}

/** The problem with a comment or reason, or undefined: absent, or a string of at most 1,000 characters. */
export function commentProblem(text: unknown, what: string): string | undefined {
  if (text === undefined || text === null) return undefined;
  if (typeof text !== 'string') return `${what} must be text.`;
  if ([...text].length > maxCommentLength) return `${what} must be at most ${maxCommentLength} characters.`;
  // eslint-disable-next-line no-control-regex -- a comment may keep tabs and newlines, no other control
  if (/[\p{Cf}\u0000-\u0008\u000b-\u001f\u007f-\u009f]/u.test(text)) {
    return `${what} holds a control or format character.`;
  }
  return undefined;
}
