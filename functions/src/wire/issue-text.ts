/**
 * What a valibot issue says of malformed input, without the input: valibot's own messages end
 * in "but received <the value>", and webhook bodies and bus messages carry cell values, which
 * must not reach a log or an answer that the script logs (DESIGN.md §2, Logging). The path
 * (keys of the input: headers at most, never a value) and what the schema expected are enough
 * to find the fault.
 */
import type * as v from 'valibot';

/** Longest path segment kept: a hostile key (a 50,000-character header) must not flood a log. */
const MAX_SEGMENT = 100;

export function issueText(issue: v.BaseIssue<unknown>): string {
  const path = issue.path?.map((p) => String(p.key).slice(0, MAX_SEGMENT)).join('.') || '(root)';
  return `${path}: invalid ${issue.type}${issue.expected ? `, expected ${issue.expected.slice(0, MAX_SEGMENT)}` : ''}`;
}
