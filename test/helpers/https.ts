import https from 'node:https';

export interface HttpsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTPS request to 127.0.0.1 trusting only the given CA, optionally from another loopback address. */
export function httpsRequest(options: {
  port: number;
  path: string;
  ca: string;
  method?: string;
  body?: string;
  headers?: Record<string, string>;
  localAddress?: string;
}): Promise<HttpsResponse> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        port: options.port,
        path: options.path,
        method: options.method ?? 'GET',
        servername: 'localhost',
        ca: options.ca,
        localAddress: options.localAddress,
        headers: options.headers,
        agent: false,
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body }),
        );
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}
