import type { Outcome } from './scenarios';
import type { CreateCallInput } from './validation';

const hostReplies: Record<Outcome, string> = {
  achieved: "Sure, that's no problem. It's all taken care of.",
  partial: 'I can help with part of that, but not all of it today.',
  not_achieved: "I'm sorry, we can't help with that.",
};

const summaryEndings: Record<Outcome, string> = {
  achieved: 'and achieved the objective',
  partial: 'and partly achieved the objective',
  not_achieved: 'but could not achieve the objective',
};

function objectiveOf(input: CreateCallInput): string {
  return input.objective.trim().replace(/[.!?]+$/, '');
}

function businessOf(input: CreateCallInput): string | undefined {
  return input.business_name?.trim() || undefined;
}

/** One sentence naming the business and the objective, so a reader can tell calls apart. */
export function summaryOf(input: CreateCallInput, outcome: Outcome): string {
  return `Called ${businessOf(input) ?? 'the business'} about "${objectiveOf(input)}" ${summaryEndings[outcome]}.`;
}

export function transcriptOf(input: CreateCallInput, outcome: Outcome): string {
  const business = businessOf(input);
  return [
    `Agent: ${business ? `Hello, is this ${business}?` : 'Hello, who am I speaking with?'}`,
    `Host: ${business ? `Yes, this is ${business}.` : 'This is the front desk.'} How can I help?`,
    `Agent: I'm calling on behalf of a customer. ${objectiveOf(input)}.`,
    `Host: ${hostReplies[outcome]}`,
    'Agent: Thank you for your help. Goodbye.',
    'Host: Goodbye.',
  ].join('\n');
}
