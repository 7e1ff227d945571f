import { z } from 'zod';

export const signupBodySchema = z.object({
  email: z.string().trim().toLowerCase().max(320).pipe(z.email()),
  password: z.string().min(8).max(72),
});

/** What the credentials provider accepts before it touches the database. */
export const credentialsSchema = z.object({
  email: z.string().trim().toLowerCase().min(1),
  password: z.string().min(8),
});

export const chatBodySchema = z.object({
  message: z.string().trim().min(1).max(4000),
  conversationId: z.uuid().optional(),
  model: z.string().trim().min(1).max(200).optional(),
  agentId: z.string().trim().min(1).max(100).optional(),
  systemPrompt: z.string().max(20_000).optional(),
  enabledTools: z.array(z.string()).max(20).optional(),
  stream: z.boolean().optional(),
});

export type ChatBody = z.infer<typeof chatBodySchema>;

export const onboardingBodySchema = z.object({ completed: z.boolean() });

/** The API's inbound answer; only content and conversation id matter to the web chat. */
export const inboundAnswerSchema = z.object({
  content: z.string().optional(),
  conversation_id: z.string().optional(),
  conversationId: z.string().optional(),
});
