import { AGENTS, DEFAULT_MODEL } from './agents';
import { htmlDocument, scriptJson } from './html';

const USE_CASES = [
  { id: 'research', label: 'Research', description: 'Deep analysis, reports, and evidence gathering.' },
  { id: 'coding', label: 'Coding', description: 'Build features, debug issues, and ship software.' },
  { id: 'marketing', label: 'Marketing', description: 'Generate leads, campaigns, and social content.' },
  { id: 'general', label: 'General', description: 'Everyday brainstorming and execution tasks.' },
];

const RECOMMENDATIONS: Record<string, string[]> = {
  research: ['research', 'intel', 'chat'],
  coding: ['coder', 'research', 'chat'],
  marketing: ['social', 'intel', 'research'],
  general: ['chat', 'research', 'coder'],
};

/**
 * The onboarding wizard as the real app has it: five steps (use case, agents, configuration, a
 * test message, done) with Skip/Back/Continue; "Finish Onboarding" posts /api/onboarding, and the
 * last step stores the primary agent for the chat page and moves on to /dashboard/chat after 2 s.
 * An already onboarded user is sent to /dashboard at once.
 */
function onboardingScript(): string {
  return `
(function () {
  'use strict';
  const AGENTS = ${scriptJson(AGENTS)};
  const USE_CASES = ${scriptJson(USE_CASES)};
  const RECOMMENDATIONS = ${scriptJson(RECOMMENDATIONS)};
  const MODEL = ${scriptJson(DEFAULT_MODEL)};
  const TOTAL_STEPS = 5;
  const root = document.getElementById('app');
  const agentById = function (id) { return AGENTS.find(function (a) { return a.id === id; }) || AGENTS[AGENTS.length - 1]; };
  const state = { step: 0, useCase: 'general', selected: RECOMMENDATIONS.general.slice(0, 2), primary: 'chat',
    firstMessage: 'Help me plan my first project with this agent.', reply: '', error: '', busy: false };

  function el(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function button(label, onClick, attributes) {
    const node = el('button', Object.assign({ type: 'button' }, attributes || {}), label);
    node.addEventListener('click', onClick);
    return node;
  }
  function go(step) { state.error = ''; state.step = Math.max(0, Math.min(TOTAL_STEPS - 1, step)); render(); }

  async function sendTestMessage() {
    state.busy = true; state.error = ''; render();
    try {
      const response = await fetch('/api/chat', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ message: state.firstMessage, model: MODEL, agentId: state.primary,
          systemPrompt: agentById(state.primary).systemPrompt, stream: false }) });
      const data = await response.json();
      if (!response.ok) throw new Error(data.error || 'Failed to send test message.');
      state.reply = (data.message && data.message.content || '').trim() || 'Agent responded successfully.';
    } catch (error) {
      state.error = error instanceof Error ? error.message : 'Failed to send message.';
    } finally { state.busy = false; render(); }
  }

  async function completeOnboarding() {
    state.busy = true; state.error = ''; render();
    try {
      const response = await fetch('/api/onboarding', { method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ completed: true }) });
      if (!response.ok) { const data = await response.json(); throw new Error(data.error || 'Failed to finish onboarding.'); }
      state.busy = false; go(4);
      setTimeout(function () {
        try { window.localStorage.setItem('openfang:selected-agent', state.primary); } catch (e) {}
        window.location.assign('/dashboard/chat');
      }, 2000);
    } catch (error) {
      state.busy = false; state.error = error instanceof Error ? error.message : 'Failed to complete onboarding.'; render();
    }
  }

  function skip() {
    if (state.step < 3) go(state.step + 1);
    else if (state.step === 3) completeOnboarding();
    else window.location.assign('/dashboard');
  }

  function stepSection() {
    const section = el('section', { 'data-step': String(state.step) });
    if (state.step === 0) {
      section.appendChild(el('h2', {}, 'Welcome. What do you want to build?'));
      USE_CASES.forEach(function (item) {
        section.appendChild(button(item.label, function () {
          state.useCase = item.id; state.selected = RECOMMENDATIONS[item.id].slice(0, 2); state.primary = state.selected[0]; render();
        }, { 'aria-pressed': String(state.useCase === item.id) }));
      });
    } else if (state.step === 1) {
      section.appendChild(el('h2', {}, 'Choose 1-3 agents'));
      AGENTS.forEach(function (agent) {
        section.appendChild(button(agent.icon + ' ' + agent.name, function () {
          const at = state.selected.indexOf(agent.id);
          if (at >= 0 && state.selected.length > 1) state.selected.splice(at, 1);
          else if (at < 0 && state.selected.length < 3) state.selected.push(agent.id);
          if (state.selected.indexOf(state.primary) < 0) state.primary = state.selected[0];
          render();
        }, { 'aria-pressed': String(state.selected.indexOf(agent.id) >= 0) }));
      });
      section.appendChild(el('p', {}, 'Selected: ' + state.selected.length + ' / 3'));
    } else if (state.step === 2) {
      section.appendChild(el('h2', {}, 'Configure your primary agent'));
      const select = el('select', { 'aria-label': 'Primary agent' });
      state.selected.forEach(function (id) {
        const option = el('option', { value: id }, agentById(id).icon + ' ' + agentById(id).name);
        if (id === state.primary) option.selected = true;
        select.appendChild(option);
      });
      select.addEventListener('change', function () { state.primary = select.value; });
      section.appendChild(select);
      section.appendChild(el('p', {}, 'Model: ' + MODEL));
    } else if (state.step === 3) {
      section.appendChild(el('h2', {}, 'Send your first test message'));
      const input = el('textarea', { rows: '4', placeholder: 'Type your first prompt...' });
      input.value = state.firstMessage;
      input.addEventListener('input', function () { state.firstMessage = input.value; });
      section.appendChild(input);
      section.appendChild(button(state.busy ? 'Sending...' : 'Send Test Message', sendTestMessage));
      section.appendChild(button(state.busy ? 'Finishing...' : 'Finish Onboarding', completeOnboarding));
      if (state.reply) section.appendChild(el('p', { 'data-testid': 'onboarding-reply' }, state.reply));
    } else {
      section.appendChild(el('h2', {}, 'Your agent is ready'));
      section.appendChild(el('p', {}, 'Setup complete. Redirecting you to dashboard...'));
      section.appendChild(button('Go to Dashboard', function () { window.location.assign('/dashboard'); }));
    }
    return section;
  }

  function render() {
    root.innerHTML = '';
    const main = el('main', { 'data-testid': 'onboarding' });
    main.appendChild(el('p', {}, 'Onboarding'));
    main.appendChild(el('h1', {}, 'Set up your first AI Agent'));
    main.appendChild(button('Skip', skip, state.busy ? { disabled: '' } : {}));
    main.appendChild(el('p', {}, 'Step ' + (state.step + 1) + ' of ' + TOTAL_STEPS));
    main.appendChild(stepSection());
    if (state.error) main.appendChild(el('p', { role: 'alert' }, state.error));
    const nav = el('div', {});
    nav.appendChild(button('Back', function () { go(state.step - 1); }, state.step === 0 ? { disabled: '' } : {}));
    if (state.step < 3) nav.appendChild(button('Continue', function () { go(state.step + 1); }));
    main.appendChild(nav);
    root.appendChild(main);
  }

  fetch('/api/onboarding', { cache: 'no-store' })
    .then(function (response) { return response.ok ? response.json() : {}; })
    .then(function (status) {
      if (status && status.onboardingCompleted) window.location.replace('/dashboard');
      else render();
    })
    .catch(function () { state.error = 'Failed to load onboarding setup.'; render(); });
})();`;
}

export function onboardingPage(): string {
  return htmlDocument(
    'Onboarding | AgentTeams',
    '<div id="app"><p>Loading onboarding...</p></div>',
    onboardingScript(),
  );
}
