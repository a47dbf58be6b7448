// A stand-in for AWS behind the wire clients' `fetch`, for unit tests of adapters: it answers
// each operation from a script and records every call's input, as the service would read it
// (awsJson: the body; EventBridge Scheduler's REST: Name from the path, GroupName from the
// query, the body without its ClientToken). Integration tests use the real local parts instead.

export interface FakeCall {
  readonly operation: string;
  readonly input: Record<string, unknown>;
}

export interface FakeFailure {
  readonly status: number;
  readonly code: string;
  readonly message: string;
}

type Answer = Record<string, unknown> | FakeFailure;

export const failure = (status: number, code: string, message = code): FakeFailure => ({
  status,
  code,
  message,
});

export interface FakeAws {
  readonly fetch: typeof fetch;
  /** Answers for an operation, in order; the last one repeats. Unscripted operations answer `{}`. */
  on(operation: string, ...answers: Answer[]): FakeAws;
  calls(operation?: string): FakeCall[];
  reset(): void;
}

const schedulerOperations: Record<string, string> = {
  POST: 'CreateSchedule',
  PUT: 'UpdateSchedule',
  GET: 'GetSchedule',
  DELETE: 'DeleteSchedule',
};

export function fakeAws(): FakeAws {
  const scripts = new Map<string, Answer[]>();
  const recorded: FakeCall[] = [];

  const read = async (request: Request): Promise<FakeCall> => {
    const text = await request.text();
    const body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    const target = request.headers.get('x-amz-target');
    if (target) return { operation: target.split('.').at(-1) ?? target, input: body };
    const url = new URL(request.url);
    const { ClientToken: _token, ...rest } = body;
    const groupName = url.searchParams.get('groupName');
    return {
      operation: schedulerOperations[request.method] ?? request.method,
      input: {
        Name: decodeURIComponent(url.pathname.split('/').at(-1) ?? ''),
        ...(groupName ? { GroupName: groupName } : {}),
        ...rest,
      },
    };
  };

  const fake: FakeAws = {
    fetch: async (input, init) => {
      const call = await read(new Request(input, init));
      recorded.push(call);
      const script = scripts.get(call.operation) ?? [];
      const answer = (script.length > 1 ? script.shift() : script[0]) ?? {};
      if ('status' in answer && 'code' in answer && typeof answer.status === 'number') {
        const { status, code, message } = answer as FakeFailure;
        return new Response(JSON.stringify({ __type: `com.amazonaws#${code}`, message }), {
          status,
          headers: { 'x-amzn-errortype': `${code}:http://internal.amazon.com/` },
        });
      }
      return new Response(JSON.stringify(answer), { status: 200 });
    },
    on(operation, ...answers) {
      scripts.set(operation, answers);
      return fake;
    },
    calls(operation) {
      return recorded.filter((call) => operation === undefined || call.operation === operation);
    },
    reset() {
      scripts.clear();
      recorded.length = 0;
    },
  };
  return fake;
}
