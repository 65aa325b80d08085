import { readFileSync } from "node:fs";
import { WORKFLOW_TEMPLATE_PATH } from "./assets.js";

export { WORKFLOW_TEMPLATE_PATH };

/** The variables of the ASL template (Terraform passes the same ones). */
export interface WorkflowTemplateVars {
  stepsFunctionArn: string;
  stepWaitSeconds: number;
}

/**
 * Renders a template as Terraform's `templatefile` does for plain interpolations: each `${name}` is
 * replaced by the variable's value (`$${` and `%%{` are a literal `${` and `%{`). Directives (`%{ … }`) and expressions
 * other than a variable name are refused, so what runs locally is never a guess at what Terraform
 * would render. https://developer.hashicorp.com/terraform/language/functions/templatefile
 *
 * @example
 * ```ts
 * renderTemplate('{"FunctionName":"${step_arn}"}', { step_arn: "MyStep" }); // '{"FunctionName":"MyStep"}'
 * ```
 */
export function renderTemplate(source: string, vars: Record<string, string>, what = "the template"): string {
  if (/(^|[^%])%\{/.test(source)) {
    throw new Error(`${what} uses template directives (%{ … }); only \${name} interpolations are supported`);
  }
  return source.replace(/\$\$\{|%%\{|\$\{([^}]*)\}/g, (match: string, name: string | undefined) => {
    if (name === undefined) return match.slice(1);
    const key = name.trim();
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) {
      throw new Error(`${what} uses the expression \${${name}}; only variable names are supported`);
    }
    const v = vars[key];
    if (v === undefined) {
      throw new Error(`${what} references \${${key}}, which no variable provides (--var ${key}=VALUE)`);
    }
    return v;
  });
}

/**
 * Renders the simulated workflow's ASL template with the variables Terraform passes it.
 *
 * @example
 * ```ts
 * JSON.parse(renderWorkflowDefinition({ stepsFunctionArn: arn, stepWaitSeconds: 1 })).StartAt; // "Plan"
 * ```
 */
export function renderWorkflowDefinition(vars: WorkflowTemplateVars, template?: string): string {
  const source = template ?? readFileSync(WORKFLOW_TEMPLATE_PATH, "utf8");
  return renderTemplate(
    source,
    { steps_function_arn: vars.stepsFunctionArn, step_wait_seconds: String(vars.stepWaitSeconds) },
    "the ASL template",
  );
}
