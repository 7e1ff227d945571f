import http from 'node:http';

/**
 * The baseline of the simulator's capacity figure: a bare node:http server on loopback that reads
 * the request body and answers a JSON body the size of a completion, with no routing, auth or
 * model. Prints `BARE_URL=http://127.0.0.1:<port>` when listening; SIGTERM closes it.
 */

const ANSWER = JSON.stringify({
  id: 'chatcmpl-bare',
  object: 'chat.completion',
  created: 0,
  model: 'openai/gpt-4.1-mini',
  choices: [
    {
      index: 0,
      message: { role: 'assistant', content: 'Hello there, nice to meet you.' },
      finish_reason: 'stop',
    },
  ],
  usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 },
});

const server = http.createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    response.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(ANSWER),
    });
    response.end(ANSWER);
  });
});

server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object')
    process.stdout.write(`BARE_URL=http://127.0.0.1:${address.port}\n`);
});

const close = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', close);
process.on('SIGINT', close);
