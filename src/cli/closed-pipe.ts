/**
 * Makes a command whose reader went away (`ridergate watch | head -1`) end quietly with
 * exit code 0, as `yes | head -1` does, instead of an unhandled EPIPE stack trace. Node.js
 * ignores SIGPIPE, so the closed pipe shows up as an 'error' on the stream.
 * Any other stream error is left to crash the process as before.
 */
export function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream, exit = process.exit): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') exit(0);
    throw err;
  });
}
