/** Server-rendered shells of the app's pages; the interactive parts are rendered client-side. */

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** JSON safe to embed in a <script> element. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const STYLE = `
body{margin:0;font-family:system-ui,sans-serif;background:#0a0a0b;color:#e5e7eb}
main{max-width:72rem;margin:0 auto;padding:1.5rem}
button{cursor:pointer;border-radius:.5rem;border:1px solid #2a2a33;background:#14141a;color:#e5e7eb;padding:.5rem 1rem}
button:disabled{opacity:.5;cursor:not-allowed}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:.75rem}
article{border:1px solid #26262f;border-radius:1rem;padding:1rem;background:#14141a}
.messages{display:flex;flex-direction:column;gap:.75rem;min-height:12rem;padding:1rem 0}
.message{max-width:80%;border-radius:1rem;padding:.75rem 1rem;white-space:pre-wrap;word-break:break-word}
.message[data-role=user]{align-self:flex-end;background:#6c5ce7;color:#fff}
.message[data-role=assistant]{align-self:flex-start;background:#12121a;border:1px solid #23233a}
textarea{flex:1;min-height:42px;background:transparent;color:#f3f4f6;border:1px solid #2a2a3d;border-radius:.75rem;padding:.5rem}
.composer{display:flex;gap:.5rem;align-items:flex-end}
`;

export function htmlDocument(title: string, body: string, script?: string): string {
  return [
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>`,
    `<body>${body}${script ? `<script>${script}</script>` : ''}</body></html>`,
  ].join('');
}

export function landingPage(): string {
  return htmlDocument(
    'AgentTeams',
    '<main><h1>AgentTeams</h1><p>Your team of AI agents, ready to work.</p>' +
      '<p><a href="/login">Sign in</a></p></main>',
  );
}

/**
 * The login page offers only Google: there is no email/password form in the browser. The button
 * posts NextAuth's sign-in form with a fresh CSRF token.
 */
export function loginPage(): string {
  const script = `
document.getElementById('google-signin').addEventListener('click', async function () {
  const response = await fetch('/api/auth/csrf');
  const data = await response.json();
  const form = document.createElement('form');
  form.method = 'POST';
  form.action = '/api/auth/signin/google';
  for (const [name, value] of [['csrfToken', data.csrfToken], ['callbackUrl', '/dashboard']]) {
    const input = document.createElement('input');
    input.type = 'hidden';
    input.name = name;
    input.value = value;
    form.appendChild(input);
  }
  document.body.appendChild(form);
  form.submit();
});`;
  return htmlDocument(
    'Sign in | AgentTeams',
    '<main><h1>Welcome to AgentTeams</h1><p>Sign in to continue</p>' +
      '<button type="button" id="google-signin">Continue with Google</button></main>',
    script,
  );
}

export function notFoundPage(): string {
  return htmlDocument(
    '404: This page could not be found.',
    '<main><h1>404</h1><h2>This page could not be found.</h2></main>',
  );
}

export function serverErrorPage(): string {
  return htmlDocument(
    '500: Internal Server Error.',
    '<main><h1>500</h1><h2>Internal Server Error.</h2></main>',
  );
}
