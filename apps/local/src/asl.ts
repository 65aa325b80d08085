import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The one ASL template, the very file Terraform renders with `templatefile`. */
export const WORKFLOW_TEMPLATE_PATH = fileURLToPath(
  new URL("../../../infra/modules/workflow/templates/workflow.asl.json.tftpl", import.meta.url),
);

/** The variables of the ASL template (Terraform passes the same ones). */
export interface WorkflowTemplateVars {
  stepsFunctionArn: string;
  stepWaitSeconds: number;
}

/**
 * Renders the ASL template as Terraform's `templatefile` does for this file: each `${name}` is
 * replaced by the variable's value. The template uses only plain interpolations (no directives);
 * anything else is an error here, so the local stack can never run a different definition.
 *
 * @example
 * ```ts
 * JSON.parse(renderWorkflowDefinition({ stepsFunctionArn: arn, stepWaitSeconds: 1 })).StartAt; // "Plan"
 * ```
 */
export function renderWorkflowDefinition(vars: WorkflowTemplateVars, template?: string): string {
  const source = template ?? readFileSync(WORKFLOW_TEMPLATE_PATH, "utf8");
  if (source.includes("%{"))
    throw new Error("the ASL template uses template directives; extend renderWorkflowDefinition");
  const values: Record<string, string> = {
    steps_function_arn: vars.stepsFunctionArn,
    step_wait_seconds: String(vars.stepWaitSeconds),
  };
  return source.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
    const v = values[name.trim()];
    if (v === undefined) throw new Error(`the ASL template references an unknown variable \${${name}}`);
    return v;
  });
}
