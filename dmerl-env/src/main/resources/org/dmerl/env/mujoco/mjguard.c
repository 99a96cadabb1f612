// mjguard: lets the JVM survive MuJoCo's fatal errors.
//
// mju_error() calls the user error handler and expects it never to return (MuJoCo would go on in a broken state,
// e.g. writing past its stack after "Stack overflow"). A Java upcall can neither return nor throw there (an exception
// escaping an upcall kills the JVM), so the Java binding routes engine calls through dmerl_mjguard_call(): it sets a
// jump point, and dmerl_mjguard_on_error(), installed as mju_user_error, jumps back to it with the message. Java then
// throws an exception. The jump only crosses MuJoCo's C engine frames, never a Java frame.
//
// Errors raised outside a guarded call go to the fallback handler set by dmerl_mjguard_set_fallback (the Java side
// logs and halts). Needs no MuJoCo headers, so one build serves every MuJoCo version.
//
//   cc -O2 -shared -fPIC mjguard.c -o libdmerl_mjguard.so
#include <setjmp.h>
#include <stddef.h>
#include <string.h>

typedef void (*dmerl_msg_fn)(const char*);
typedef void (*dmerl_md_fn)(const void* m, void* d);
typedef void* (*dmerl_make_fn)(const void* m);

static _Thread_local jmp_buf* active;   // innermost guarded call on this thread, or NULL
static _Thread_local char message[1024];
static dmerl_msg_fn fallback;

void dmerl_mjguard_set_fallback(dmerl_msg_fn fn) { fallback = fn; }

const char* dmerl_mjguard_message(void) { return message; }

// Installed as mju_user_error.
void dmerl_mjguard_on_error(const char* msg) {
  if (active) {
    strncpy(message, msg ? msg : "(null)", sizeof message - 1);
    message[sizeof message - 1] = '\0';
    longjmp(*active, 1);
  }
  if (fallback) fallback(msg);
}

// Calls fn(m, d) `repeat` times and then after(m, d) if after is not NULL. Returns 0, or 1 after mju_error.
int dmerl_mjguard_call(dmerl_md_fn fn, const void* m, void* d, int repeat, dmerl_md_fn after) {
  jmp_buf here;
  jmp_buf* volatile outer = active;
  if (setjmp(here)) {
    active = outer;
    return 1;
  }
  active = &here;
  for (int i = 0; i < repeat; i++) fn(m, d);
  if (after) after(m, d);
  active = outer;
  return 0;
}

// Calls fn(m) (mj_makeData) and returns its result, or NULL after mju_error.
void* dmerl_mjguard_make(dmerl_make_fn fn, const void* m) {
  jmp_buf here;
  jmp_buf* volatile outer = active;
  if (setjmp(here)) {
    active = outer;
    return NULL;
  }
  active = &here;
  void* result = fn(m);
  active = outer;
  return result;
}
