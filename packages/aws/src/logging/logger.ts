import { LogFormatter, Logger, LogItem } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import { maskPhonesDeep } from '@qunfa/domain';

/**
 * Powertools' JSON layout with one difference: every value, the message included, passes
 * through the phone mask before it is written (ARCHITECTURE.md invariant 7), so a number
 * that slips into an error message or a payload is still never logged whole.
 */
export class MaskingLogFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const base: LogAttributes = {
      level: attributes.logLevel,
      message: attributes.message,
      timestamp: this.formatTimestamp(attributes.timestamp),
      service: attributes.serviceName,
      cold_start: attributes.lambdaContext?.coldStart,
      function_name: attributes.lambdaContext?.functionName,
      function_request_id: attributes.lambdaContext?.awsRequestId,
      xray_trace_id: attributes.xRayTraceId,
    };
    const masked = maskPhonesDeep({ ...base, ...additional });
    return new LogItem({ attributes: isAttributes(masked) ? masked : base });
  }
}

function isAttributes(value: unknown): value is LogAttributes {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export type QunfaLogger = Logger;

export function createLogger({
  service,
  level = 'INFO',
}: {
  service: string;
  level?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
}): QunfaLogger {
  return new Logger({
    serviceName: `qunfa-${service}`,
    logLevel: level,
    logFormatter: new MaskingLogFormatter(),
  });
}
