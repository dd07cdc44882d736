/** The last lines a child process wrote, kept for the error message when it fails. */
export class OutputTail {
  private readonly lines: string[] = [];
  private partial = '';

  constructor(private readonly capacity: number) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      this.lines.push(line);
      if (this.lines.length > this.capacity) this.lines.shift();
    }
  }

  text(): string {
    return [...this.lines, this.partial].join('\n').trim();
  }
}
