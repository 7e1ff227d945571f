/** The agents the real chat page offers, in its hero order (id, name, icon, one-line description). */
export interface AgentInfo {
  id: string;
  name: string;
  icon: string;
  description: string;
  systemPrompt: string;
  welcomeMessage: string;
}

export const AGENTS: readonly AgentInfo[] = [
  {
    id: 'research',
    name: 'Research Assistant',
    icon: '🔍',
    description: 'Deep autonomous research with cited reports',
    systemPrompt: 'You are a deep research assistant. Cite your sources and structure the report clearly.',
    welcomeMessage: "I'm your research assistant. What topic would you like me to investigate?",
  },
  {
    id: 'coder',
    name: 'Coder',
    icon: '👨‍💻',
    description: 'Build and deploy apps with agent swarm',
    systemPrompt: 'You are an expert software engineer. Write production-quality code with tests.',
    welcomeMessage: "I'm your coding agent. What are we building?",
  },
  {
    id: 'intel',
    name: 'Intelligence Collector',
    icon: '🕵️',
    description: 'OSINT monitoring, change detection, sentiment analysis',
    systemPrompt: 'You are an OSINT intelligence collector. Deliver concise intelligence briefs.',
    welcomeMessage: 'What would you like me to monitor? I can track companies, people, topics, or markets.',
  },
  {
    id: 'social',
    name: 'Social Manager',
    icon: '📱',
    description: 'Content creation, scheduling, engagement tracking',
    systemPrompt: 'You are a social media manager. Present every draft for review before posting.',
    welcomeMessage: "I'm your social media manager. What platform and content do you need help with?",
  },
  {
    id: 'clip',
    name: 'Clip Creator',
    icon: '🎬',
    description: 'Turn videos into viral shorts with captions',
    systemPrompt: 'You are a video clip creator. Plan cuts, captions and hooks for short-form video.',
    welcomeMessage:
      "Let's create some viral clips! Share a video URL or tell me what content you're working with.",
  },
  {
    id: 'chat',
    name: 'General Chat',
    icon: '💬',
    description: 'Freeform conversation with any model',
    systemPrompt: 'You are a helpful AI assistant.',
    welcomeMessage: 'How can I help you today?',
  },
];

export const DEFAULT_MODEL = 'openai/gpt-4o-mini';
export const DEFAULT_TOOLS = ['web_search', 'web_fetch'];
