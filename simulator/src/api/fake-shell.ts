export const SHELL_HOME = '/home/agent';
export const PROMPT = 'agent@sim:~$ ';

export type ShellEvent = { kind: 'output'; text: string } | { kind: 'exit' };

/**
 * A small line-oriented shell behind a TTY: input is echoed as typed, complete lines run when
 * Enter arrives. Knows `echo`, `pwd`, `whoami`, `stty size`, `tput cols|lines`, `exit`; anything else
 * is "command not found".
 */
export class FakeShell {
  private line = '';
  /** The TTY size, changed by resize frames; `stty size` and `tput cols|lines` report it. */
  cols = 80;
  rows = 24;
  private lastWasCr = false;

  banner(): string {
    return `Welcome to the AgentTeams agent container (simulated).\r\n${PROMPT}`;
  }

  /** Feeds stdin bytes; returns the TTY echo and, per completed line, the command's output. */
  input(data: string): { echo: string; lines: string[] } {
    let echo = '';
    const lines: string[] = [];
    for (const char of data) {
      if (char === '\r' || char === '\n') {
        // A CRLF pair is one Enter.
        if (char === '\n' && this.lastWasCr) {
          this.lastWasCr = false;
          continue;
        }
        this.lastWasCr = char === '\r';
        echo += '\r\n';
        lines.push(this.line);
        this.line = '';
        continue;
      }
      this.lastWasCr = false;
      if (char === '\u007f' || char === '\b') {
        if (this.line.length > 0) {
          this.line = this.line.slice(0, -1);
          echo += '\b \b';
        }
        continue;
      }
      if (char === '\u0003') {
        this.line = '';
        echo += `^C\r\n${PROMPT}`;
        continue;
      }
      this.line += char;
      echo += char;
    }
    return { echo, lines };
  }

  /** Runs one line; output ends with the next prompt unless the shell exits. */
  run(line: string): ShellEvent {
    const trimmed = line.trim();
    if (trimmed === '') return { kind: 'output', text: PROMPT };
    const [command = '', argument = ''] = trimmed.split(/\s+/);
    switch (command) {
      case 'exit':
      case 'logout':
        return { kind: 'exit' };
      case 'echo':
        return { kind: 'output', text: `${unquote(trimmed.slice(4).trim())}\r\n${PROMPT}` };
      case 'pwd':
        return { kind: 'output', text: `${SHELL_HOME}\r\n${PROMPT}` };
      case 'whoami':
        return { kind: 'output', text: `agent\r\n${PROMPT}` };
      case 'stty':
        if (argument === 'size') return { kind: 'output', text: `${this.rows} ${this.cols}\r\n${PROMPT}` };
        return { kind: 'output', text: PROMPT };
      case 'tput':
        if (argument === 'cols') return { kind: 'output', text: `${this.cols}\r\n${PROMPT}` };
        if (argument === 'lines') return { kind: 'output', text: `${this.rows}\r\n${PROMPT}` };
        return { kind: 'output', text: PROMPT };
      case 'true':
        return { kind: 'output', text: PROMPT };
      default:
        return { kind: 'output', text: `bash: ${command}: command not found\r\n${PROMPT}` };
    }
  }
}

/** Strips one level of matching quotes around each word, as the shell would. */
function unquote(text: string): string {
  return text.replace(/(["'])(.*?)\1/g, '$2');
}
