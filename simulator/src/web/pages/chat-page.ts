import { AGENTS, DEFAULT_MODEL, DEFAULT_TOOLS } from './agents';
import { escapeHtml, htmlDocument, scriptJson } from './html';

const FALLBACK_ANSWER = "I couldn't process that. Please try again.";

/**
 * The agent grid as the server renders it: the heading and tiles are in the HTML, while the chat
 * panel (and its textarea) only exists once the page's script runs and an agent is chosen.
 */
function agentGridHtml(): string {
  const tiles = AGENTS.map(
    (agent) =>
      `<article data-agent-id="${escapeHtml(agent.id)}"><div aria-hidden="true">${agent.icon}</div>` +
      `<h3>${escapeHtml(agent.name)}</h3><p>${escapeHtml(agent.description)}</p>` +
      `<button type="button" data-action="start" data-agent-id="${escapeHtml(agent.id)}">Start</button></article>`,
  ).join('');
  return (
    '<main data-testid="agent-picker"><div><h1>Choose an AI Agent to get started</h1>' +
    '<p>Select a mode, then chat with shared history across switches.</p></div>' +
    `<section class="grid" aria-label="AI Agents">${tiles}</section></main>`
  );
}

/**
 * Client code of /dashboard/chat: picks an agent, renders the chat panel, posts each message to
 * /api/chat with the page's cookies and renders the assistant's answer. Hooks for browser tests:
 * the log has data-chat-state (idle | waiting | answered | failed); every message is
 * [data-testid=chat-message-<role>] with data-status ok | error.
 */
function chatScript(): string {
  return `
(function () {
  'use strict';
  const AGENTS = ${scriptJson(AGENTS)};
  const DEFAULT_MODEL = ${scriptJson(DEFAULT_MODEL)};
  const DEFAULT_TOOLS = ${scriptJson(DEFAULT_TOOLS)};
  const FALLBACK_ANSWER = ${scriptJson(FALLBACK_ANSWER)};
  const SELECTED_AGENT_KEY = 'openfang:selected-agent';
  const root = document.getElementById('app');
  const pickerHtml = root.innerHTML;
  let conversationId;
  let selected = AGENTS[AGENTS.length - 1];
  let busy = false;

  function el(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function showPicker() {
    root.innerHTML = pickerHtml;
    root.querySelectorAll('button[data-action=start]').forEach(function (button) {
      button.addEventListener('click', function () {
        const agent = AGENTS.find(function (a) { return a.id === button.getAttribute('data-agent-id'); });
        if (agent) showChat(agent);
      });
    });
  }

  function addMessage(log, role, content, status) {
    const message = el('div', { class: 'message', 'data-testid': 'chat-message-' + role, 'data-role': role,
      'data-status': status || 'ok' }, content);
    log.appendChild(message);
    message.scrollIntoView({ block: 'end' });
    return message;
  }

  function showChat(agent) {
    selected = agent;
    try { window.localStorage.setItem(SELECTED_AGENT_KEY, agent.id); } catch (e) {}
    root.innerHTML = '';
    const panel = el('main', { 'data-testid': 'chat-panel', 'data-agent-id': agent.id });
    const header = el('div', { class: 'header' });
    const back = el('button', { type: 'button' }, 'Back to agents');
    back.addEventListener('click', showPicker);
    header.appendChild(back);
    header.appendChild(el('span', { 'data-testid': 'active-agent' }, agent.icon + ' ' + agent.name));
    panel.appendChild(header);
    const log = el('div', { class: 'messages', role: 'log', 'aria-live': 'polite', 'data-testid': 'chat-messages',
      'data-chat-state': 'idle' });
    const intro = el('div', { 'data-testid': 'agent-intro' });
    intro.appendChild(el('h2', {}, agent.name));
    intro.appendChild(el('p', {}, agent.description));
    log.appendChild(intro);
    panel.appendChild(log);
    const composer = el('div', { class: 'composer' });
    const input = el('textarea', { placeholder: 'Send a message...', rows: '1' });
    const send = el('button', { type: 'button', 'data-testid': 'send-message' }, 'Send');
    send.disabled = true;
    composer.appendChild(input);
    composer.appendChild(send);
    panel.appendChild(composer);
    root.appendChild(panel);

    input.addEventListener('input', function () { send.disabled = busy || input.value.trim() === ''; });
    input.addEventListener('keydown', function (event) {
      if (event.key === 'Enter' && !event.shiftKey) { event.preventDefault(); submit(); }
    });
    send.addEventListener('click', submit);
    input.focus();

    async function submit() {
      const text = input.value.trim();
      if (!text || busy) return;
      busy = true;
      input.value = '';
      input.disabled = true;
      send.disabled = true;
      if (intro.parentNode) intro.remove();
      addMessage(log, 'user', text);
      log.setAttribute('data-chat-state', 'waiting');
      const loading = el('div', { 'data-testid': 'chat-loading', 'aria-busy': 'true' }, '...');
      log.appendChild(loading);
      try {
        const response = await fetch('/api/chat', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ conversationId: conversationId, message: text, model: DEFAULT_MODEL,
            agentId: selected.id, systemPrompt: selected.systemPrompt, enabledTools: DEFAULT_TOOLS, stream: true }),
        });
        const data = await response.json();
        if (!response.ok || !data || !data.message || !data.message.content) throw new Error((data && data.error) || 'Failed');
        loading.remove();
        addMessage(log, 'assistant', data.message.content);
        log.setAttribute('data-chat-state', 'answered');
        if (data.conversationId && data.conversationId !== conversationId) {
          conversationId = data.conversationId;
          window.history.replaceState(null, '', '/dashboard/chat?conversationId=' + encodeURIComponent(conversationId));
        }
      } catch (error) {
        loading.remove();
        addMessage(log, 'assistant', FALLBACK_ANSWER, 'error');
        log.setAttribute('data-chat-state', 'failed');
      } finally {
        busy = false;
        input.disabled = false;
        send.disabled = input.value.trim() === '';
        input.focus();
      }
    }
  }

  // The session provider asks for the session once per page load, as next-auth/react does.
  fetch('/api/auth/session').catch(function () {});
  let saved = null;
  try { saved = window.localStorage.getItem(SELECTED_AGENT_KEY); } catch (e) {}
  const savedAgent = AGENTS.find(function (a) { return a.id === saved; });
  if (savedAgent) showChat(savedAgent);
  else showPicker();
  root.setAttribute('data-hydrated', 'true');
})();`;
}

export function chatPage(): string {
  return htmlDocument('Chat | AgentTeams', `<div id="app">${agentGridHtml()}</div>`, chatScript());
}
