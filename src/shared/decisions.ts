// What a decision (approve, reject, pause, resume, cancel) may carry. Checked by the update validators, so a refused
// decision never enters history, and by the CLI before it sends one. Plain functions: no Temporal, no Node.
import type { CampaignState } from './campaign-types';

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

/** The five decisions a person makes on a campaign. */
export type DecisionName = 'approve' | 'reject' | 'pause' | 'resume' | 'cancel';

/** One row of the decision table: the update that carries it, when it is allowed, what it needs and where it leads. */
export interface DecisionRule {
  /** The campaign's update of that name. */
  update: string;
  /** The campaign states in which it may be made. */
  from: readonly CampaignState[];
  /** The state it leads to. */
  to: CampaignState;
  /** The free text it carries: its field, and whether it is required. */
  text?: { field: 'comment' | 'reason'; required: boolean };
  /** Only the campaign's `approval.approvers` may make it (when the campaign names approvers). */
  approversOnly: boolean;
}

/**
 * The decision table: the campaign's five update handlers and their validators are built from it, and the CLI's
 * five commands too, so the states a decision is allowed in, its text and its approvers are written once.
 */
export const decisionRules: Readonly<Record<DecisionName, DecisionRule>> = {
  approve: {
    update: 'approveCampaign',
    from: ['awaiting_approval'],
    to: 'running',
    text: { field: 'comment', required: false },
    approversOnly: true,
  },
  reject: {
    update: 'rejectCampaign',
    from: ['awaiting_approval'],
    to: 'rejected',
    text: { field: 'reason', required: true },
    approversOnly: true,
  },
  pause: {
    update: 'pauseCampaign',
    from: ['running'],
    to: 'paused',
    text: { field: 'reason', required: false },
    approversOnly: false,
  },
  resume: { update: 'resumeCampaign', from: ['paused'], to: 'running', approversOnly: false },
  cancel: {
    update: 'cancelCampaign',
    from: ['validating', 'awaiting_approval', 'running', 'paused'],
    to: 'canceled',
    text: { field: 'reason', required: false },
    approversOnly: false,
  },
};

export const decisionNames = Object.keys(decisionRules) as DecisionName[];

/** What every decision's update carries: who decides, and the decision's text when it has one. */
export interface DecisionInput {
  by: string;
  comment?: string;
  reason?: string;
}

/**
 * Why a decision cannot be made now, or undefined: the checks of its update's validator, in order (who, the text,
 * the campaign's state, the approvers). A refused decision never enters history.
 */
export function decisionProblem(
  name: DecisionName,
  input: DecisionInput | undefined,
  state: CampaignState,
  approvers?: readonly string[],
): string | undefined {
  const rule = decisionRules[name];
  const by = input?.by;
  const text = rule.text && input?.[rule.text.field];
  const problem =
    nameProblem(by) ??
    (rule.text?.required && (typeof text !== 'string' || !text.trim())
      ? `a ${name === 'reject' ? 'rejection' : name} needs a ${rule.text.field}.`
      : undefined) ??
    (rule.text ? commentProblem(text, rule.text.field) : undefined) ??
    (rule.from.includes(state) ? undefined : `cannot ${name} a campaign that is ${state}.`);
  if (problem) return problem;
  if (rule.approversOnly && approvers && !approvers.includes(by as string)) {
    return `${by} is not an approver of this campaign (${approvers.join(', ')}).`;
  }
  return undefined;
}

/** The update's argument for a decision: `by`, and its text only when the decision carries one and it is given. */
export function decisionInput(name: DecisionName, by: string, text?: string): DecisionInput {
  const field = decisionRules[name].text?.field;
  if (!field) return { by };
  if (decisionRules[name].text?.required) return { by, [field]: text ?? '' };
  return text ? { by, [field]: text } : { by };
}
