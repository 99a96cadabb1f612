// mjbench: env steps per second of a MuJoCo locomotion task in plain C, the reference for org.dmerl.env.mujoco.
//
// It runs the same loop as the Java env (MujocoEnv.step/reset) on the same model file:
//   step:  ctrl = uniform random action in ctrlrange (unclipped write), mj_step x frame_skip, mj_rnePostConstraint,
//          observation copied out (qpos, qvel and, for ant/humanoid, the cfrc_ext/cinert/cvel/qfrc_actuator blocks),
//          health check;
//   reset: when unhealthy or after 1000 steps: mj_resetData, qpos0 + noise, qvel + noise, mj_forward.
// With -t N, N threads each step their own mjData on one shared mjModel and the aggregate rate is printed.
// Besides steps per wall-clock second it prints steps per CPU-second of the stepping threads, which other processes
// on a shared machine disturb far less.
//
//   cc -O2 native/mjbench.c -o mjbench -lmujoco -lpthread -lm
//   ./mjbench dmerl-env/src/main/resources/org/dmerl/env/mujoco/hopper.xml hopper [-s seconds] [-t threads]
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <mujoco/mujoco.h>

typedef enum { HOPPER, WALKER2D, HALFCHEETAH, ANT, HUMANOID } Task;

typedef struct {
  const char* name;
  int frame_skip;
  double noise;
  int gaussian_qvel;  // HalfCheetah and Ant draw velocity noise from noise * N(0, 1)
} TaskInfo;

static const TaskInfo TASKS[] = {
  [HOPPER] = {"hopper", 4, 5e-3, 0},
  [WALKER2D] = {"walker2d", 4, 5e-3, 0},
  [HALFCHEETAH] = {"halfcheetah", 5, 0.1, 1},
  [ANT] = {"ant", 5, 0.1, 1},
  [HUMANOID] = {"humanoid", 5, 1e-2, 0},
};

typedef struct {
  const mjModel* m;
  Task task;
  double seconds;
  uint64_t seed;
  long steps, physics, episodes;
  double cpu;  // CPU seconds this worker's thread used: robust to other processes on a shared machine
} Worker;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static double thread_cpu(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static uint64_t next(uint64_t* s) {  // splitmix64
  uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

static double uniform(uint64_t* s, double lo, double hi) {
  return lo + (hi - lo) * ((next(s) >> 11) * 0x1.0p-53);
}

static double gaussian(uint64_t* s) {
  double u = uniform(s, 1e-300, 1), v = uniform(s, 0, 1);
  return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static int healthy(Task task, const mjModel* m, const mjData* d) {
  const mjtNum* q = d->qpos;
  switch (task) {
    case HOPPER:
      for (int i = 2; i < m->nq; i++) if (!(fabs(q[i]) < 100)) return 0;
      for (int i = 0; i < m->nv; i++) if (!(fabs(d->qvel[i]) < 100)) return 0;
      return q[1] > 0.7 && fabs(q[2]) < 0.2;
    case WALKER2D: return q[1] > 0.8 && q[1] < 2.0 && q[2] > -1 && q[2] < 1;
    case HALFCHEETAH: return 1;
    case ANT:
      for (int i = 0; i < m->nq; i++) if (!isfinite(q[i])) return 0;
      for (int i = 0; i < m->nv; i++) if (!isfinite(d->qvel[i])) return 0;
      return q[2] >= 0.2 && q[2] <= 1.0;
    case HUMANOID: return q[2] > 1.0 && q[2] < 2.0;
  }
  return 1;
}

// Copies what the Java env's observation holds, so both sides do the same memory traffic.
static void observe(Task task, const mjModel* m, const mjData* d, double* obs) {
  int n = 0;
  memcpy(obs + n, d->qpos, sizeof(double) * m->nq); n += m->nq;
  memcpy(obs + n, d->qvel, sizeof(double) * m->nv); n += m->nv;
  if (task == ANT || task == HUMANOID) {
    memcpy(obs + n, d->cfrc_ext, sizeof(double) * 6 * m->nbody); n += 6 * m->nbody;
  }
  if (task == HUMANOID) {
    memcpy(obs + n, d->cinert, sizeof(double) * 10 * m->nbody); n += 10 * m->nbody;
    memcpy(obs + n, d->cvel, sizeof(double) * 6 * m->nbody); n += 6 * m->nbody;
    memcpy(obs + n, d->qfrc_actuator, sizeof(double) * m->nv);
  }
}

static void reset(const Worker* w, mjData* d, uint64_t* rng) {
  const mjModel* m = w->m;
  const TaskInfo* info = &TASKS[w->task];
  mj_resetData(m, d);
  for (int i = 0; i < m->nq; i++) d->qpos[i] = m->qpos0[i] + uniform(rng, -info->noise, info->noise);
  for (int i = 0; i < m->nv; i++) {
    d->qvel[i] = info->gaussian_qvel ? info->noise * gaussian(rng) : uniform(rng, -info->noise, info->noise);
  }
  mj_forward(m, d);
}

static void* run(void* arg) {
  Worker* w = arg;
  const mjModel* m = w->m;
  const TaskInfo* info = &TASKS[w->task];
  mjData* d = mj_makeData(m);
  double* obs = malloc(sizeof(double) * (m->nq + m->nv * 2 + 22 * m->nbody));
  uint64_t rng = w->seed;
  reset(w, d, &rng);
  long t = 0;
  double cpu0 = thread_cpu();
  double end = now() + w->seconds;
  while (1) {
    for (int k = 0; k < 64; k++) {  // check the clock every 64 env steps
      for (int i = 0; i < m->nu; i++) {
        d->ctrl[i] = uniform(&rng, m->actuator_ctrlrange[2 * i], m->actuator_ctrlrange[2 * i + 1]);
      }
      for (int s = 0; s < info->frame_skip; s++) mj_step(m, d);
      mj_rnePostConstraint(m, d);
      observe(w->task, m, d, obs);
      w->steps++;
      w->physics += info->frame_skip;
      if (!healthy(w->task, m, d) || ++t >= 1000) {
        reset(w, d, &rng);
        t = 0;
        w->episodes++;
      }
    }
    if (now() >= end) break;
  }
  w->cpu = thread_cpu() - cpu0;
  free(obs);
  mj_deleteData(d);
  return NULL;
}

static void quiet(const char* msg) { (void)msg; }  // no MUJOCO_LOG.TXT from instability warnings

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL.xml hopper|walker2d|halfcheetah|ant|humanoid [-s seconds] [-t threads]\n", argv[0]);
    return 2;
  }
  int task = -1;
  for (int i = 0; i < 5; i++) if (!strcmp(argv[2], TASKS[i].name)) task = i;
  if (task < 0) { fprintf(stderr, "unknown task %s\n", argv[2]); return 2; }
  double seconds = 5;
  int threads = 1;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "-s")) seconds = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "-t")) threads = atoi(argv[i + 1]);
  }
  mju_user_warning = quiet;
  char error[1000];
  mjModel* m = mj_loadXML(argv[1], NULL, error, sizeof error);
  if (!m) { fprintf(stderr, "cannot load %s: %s\n", argv[1], error); return 1; }

  Worker warm = {m, task, 0.5, 1, 0, 0, 0, 0};  // warm caches and the CPU clock before timing
  run(&warm);

  Worker* workers = calloc(threads, sizeof(Worker));
  pthread_t* ids = calloc(threads, sizeof(pthread_t));
  double start = now();
  for (int i = 0; i < threads; i++) {
    workers[i] = (Worker){m, task, seconds, 1000 + i, 0, 0, 0, 0};
    pthread_create(&ids[i], NULL, run, &workers[i]);
  }
  long steps = 0, physics = 0, episodes = 0;
  double cpu = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(ids[i], NULL);
    steps += workers[i].steps;
    physics += workers[i].physics;
    episodes += workers[i].episodes;
    cpu += workers[i].cpu;
  }
  double elapsed = now() - start;
  printf("%s C MuJoCo %s threads %d: %.0f env steps/s, %.0f env steps per CPU-second, %.0f physics steps/s, "
         "mean episode %.1f steps (%ld steps, %.2f s)\n", TASKS[task].name, mj_versionString(), threads,
         steps / elapsed, steps / cpu, physics / elapsed, episodes ? (double)steps / episodes : (double)steps, steps,
         elapsed);
  free(workers);
  free(ids);
  mj_deleteModel(m);
  return 0;
}
