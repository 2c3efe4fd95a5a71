// CShims/terminal.c: the relay between the caller's terminal and a sandbox pty.
#ifndef MOAT_TERMINAL_H
#define MOAT_TERMINAL_H


#pragma clang assume_nonnull begin

// Copies bytes between the caller's terminal (`in`, `out`) and a pty master
// on a thread of its own, `in` in raw mode, following its window size. 0 or
// -errno. finish drains the workload's output, restores the terminal and
// closes the master.
int moat_terminal_relay_start(int master, int in, int out);
void moat_terminal_relay_finish(void);

#pragma clang assume_nonnull end

#endif
