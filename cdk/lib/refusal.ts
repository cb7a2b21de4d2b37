/**
 * A configuration the app refuses at synth, as template.yaml's `Rules` (and AllowedPatterns)
 * refuse it at deploy time, and as the function's init would refuse it with a
 * ConfigurationError. test/check-synth.mjs compares each refusal with init's answer
 * (examples/check_config.rs).
 */
export interface Refusal {
  /** The construct props at fault (e.g. `hub`, `kmsKeyArn`). */
  readonly props: string[];
  /** The template parameters that refuse the same (template.yaml or deploy/member.yaml). */
  readonly parameters: string[];
  /**
   * The environment variable init names for it. Unset where only the deployment refuses: the
   * function would start, but its IAM could not work (e.g. an alias outside hub mode, where the
   * grants are keyed by key ARN).
   */
  readonly variable?: string;
  readonly reason: string;
}

/** Thrown by the constructs with every refusal of their props. */
export class ConfigurationRefused extends Error {
  constructor(readonly refusals: Refusal[]) {
    super(
      "db-secret-provisioner: configuration refused:\n" +
        refusals
          .map((r) =>
            `- ${r.props.join(" with ")}: ${r.reason} (template parameters ${r.parameters.join(", ")}` +
            `${r.variable ? `; the function's init names ${r.variable}` : ""})`)
          .join("\n"),
    );
    this.name = "ConfigurationRefused";
  }
}

/** Throws when any refusal was found. */
export function refuse(refusals: Refusal[]): void {
  if (refusals.length) throw new ConfigurationRefused(refusals);
}
