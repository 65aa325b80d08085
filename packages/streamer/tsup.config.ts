import { defineConfig } from "tsup";
import { lambdaPackageBuilds } from "../../scripts/tsup-lambda.js";

export default defineConfig(lambdaPackageBuilds());
