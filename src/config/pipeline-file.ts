import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { parsePipelineConfig, type PipelineConfig } from '../domain/pipeline/pipeline-config.js';

export class PipelineFileError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`pipeline config ${path}: ${message}`);
    this.name = 'PipelineFileError';
  }
}

/**
 * Reads a pipeline config file (YAML or JSON: YAML is a superset) and validates it. `reportingCurrency` (from
 * REPORTING_CURRENCY) applies when the file does not set `reporting_currency`.
 */
export async function loadPipelineConfig(
  path: string | undefined,
  options: { readonly reportingCurrency?: string | undefined } = {},
): Promise<PipelineConfig> {
  let document: unknown = {};
  if (path !== undefined) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new PipelineFileError(path, `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    try {
      document = parseYaml(text) ?? {};
    } catch (error) {
      throw new PipelineFileError(
        path,
        `is neither YAML nor JSON: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (typeof document !== 'object' || Array.isArray(document)) {
      throw new PipelineFileError(path, 'must be a mapping of sections (traits, segments, personas, …)');
    }
  }
  const withCurrency =
    options.reportingCurrency !== undefined && !('reporting_currency' in (document as object))
      ? { ...(document as object), reporting_currency: options.reportingCurrency }
      : document;
  try {
    return parsePipelineConfig(withCurrency);
  } catch (error) {
    if (path !== undefined && error instanceof Error) throw new PipelineFileError(path, error.message);
    throw error;
  }
}
