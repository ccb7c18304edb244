/** One problem of a contact policy file, at a JSON path such as `jurisdictions.US-FL.hours.start`. */
export interface PolicyIssue {
  /** Dotted path into the file; empty for the file as a whole. */
  path: string;
  message: string;
}

/** The contact policy file cannot be used. Lists every problem at once, so one edit can fix them all. */
export class ContactPolicyError extends Error {
  override name = 'ContactPolicyError';

  constructor(
    /** The file's path, as AGENTPHONE_CONTACT_POLICY gave it, or `(inline JSON)`. */
    readonly file: string,
    readonly issues: readonly PolicyIssue[],
    options?: { cause?: unknown },
  ) {
    super(
      [
        `Invalid contact policy ${file}: fix each problem below, or unset AGENTPHONE_CONTACT_POLICY for the defaults.`,
        ...issues.map(({ path, message }) => `  - ${path === '' ? '(file)' : path}: ${message}`),
      ].join('\n'),
      options,
    );
  }
}
