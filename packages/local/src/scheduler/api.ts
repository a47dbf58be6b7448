import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type * as z from 'zod';
import { type ScheduleBook, SchedulerApiError, scheduleBody, scheduleName, validation } from './book';

// The subset of the EventBridge Scheduler REST API (restJson1) that qunfa uses, with the
// paths, query parameters and error shape of the SDK's own serializers
// (@aws-sdk/client-scheduler, dist-es/schemas/schemas_0.js):
//   POST   /schedules/{Name}                 CreateSchedule   (GroupName in the body)
//   PUT    /schedules/{Name}                 UpdateSchedule
//   GET    /schedules/{Name}?groupName=      GetSchedule
//   DELETE /schedules/{Name}?groupName=      DeleteSchedule   (&clientToken=)
//   GET    /schedules?ScheduleGroup=&NamePrefix=&State=&NextToken=&MaxResults=   ListSchedules
// Errors: status + `x-amzn-ErrorType` + `{"Message": ...}`, which the SDK turns into its
// ConflictException (409), ResourceNotFoundException (404) and ValidationException (400).
// Requests are not signature-checked: any credentials will do.

const maxBodyBytes = 1024 * 1024;

export interface SchedulerApi {
  readonly book: ScheduleBook;
  /** Called after every change, before the answer: the change is on disk when the client hears of it. */
  changed(): Promise<void>;
  health(): unknown;
}

export function handleSchedulerRequest(
  api: SchedulerApi,
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request: IncomingMessage, response: ServerResponse): void => {
    void route(api, request)
      .then(({ status, body }) => send(response, status, body))
      .catch((error: unknown) => {
        const failure =
          error instanceof SchedulerApiError
            ? error
            : new SchedulerApiError(
                500,
                'InternalServerException',
                error instanceof Error ? error.message : 'failed',
              );
        send(response, failure.status, { Message: failure.message }, { 'x-amzn-ErrorType': failure.type });
      });
  };
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

async function route(api: SchedulerApi, request: IncomingMessage): Promise<Answer> {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const method = request.method ?? 'GET';
  const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const query = (name: string): string | undefined => url.searchParams.get(name) ?? undefined;

  if (method === 'GET' && url.pathname === '/health') return { status: 200, body: api.health() };
  if (segments[0] !== 'schedules' || segments.length > 2) throw unknownOperation(method, url.pathname);

  if (segments.length === 1) {
    if (method !== 'GET') throw unknownOperation(method, url.pathname);
    const maxResults = query('MaxResults');
    const body = api.book.list({
      groupName: query('ScheduleGroup'),
      namePrefix: query('NamePrefix'),
      state: query('State'),
      nextToken: query('NextToken'),
      maxResults: maxResults === undefined ? undefined : Number(maxResults),
    });
    return { status: 200, body };
  }

  const name = segments[1] ?? '';
  if (!scheduleName.safeParse(name).success) {
    throw validation(`Schedule name ${name} must be 1–64 of the characters 0-9 a-z A-Z - _ .`);
  }
  switch (method) {
    case 'POST': {
      const result = api.book.create(name, await readBody(request));
      await api.changed();
      return { status: 200, body: result };
    }
    case 'PUT': {
      const result = api.book.update(name, await readBody(request));
      await api.changed();
      return { status: 200, body: result };
    }
    case 'GET':
      return { status: 200, body: api.book.get(name, query('groupName')) };
    case 'DELETE': {
      const result = api.book.delete(name, query('groupName'));
      await api.changed();
      return { status: 200, body: result };
    }
    default:
      throw unknownOperation(method, url.pathname);
  }
}

function unknownOperation(method: string, path: string): SchedulerApiError {
  return new SchedulerApiError(
    404,
    'UnknownOperationException',
    `The local scheduler does not serve ${method} ${path}.`,
  );
}

async function readBody(request: IncomingMessage): Promise<z.infer<typeof scheduleBody>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > maxBodyBytes) throw validation(`The request body is larger than ${maxBodyBytes} bytes.`);
    chunks.push(buffer);
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    throw validation('The request body is not JSON.');
  }
  const parsed = scheduleBody.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`,
    );
    throw validation(`${problems.length} validation error(s) detected: ${problems.join('; ')}`);
  }
  return parsed.data;
}

function send(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (response.headersSent) return;
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-amzn-RequestId': randomUUID(),
    ...headers,
  });
  response.end(text);
}
