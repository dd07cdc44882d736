/*
 * A local Kafka broker for tests and the demo: librdkafka's mock cluster (rdkafka_mock.h), which speaks the real
 * Kafka wire protocol on 127.0.0.1, wrapped in a process that persona-stream starts and talks to over stdio.
 *
 *   mock-broker --brokers N [--topic NAME:PARTITIONS]...
 *
 * stdout: "BOOTSTRAP host:port,host:port" once the cluster is up, then "OK <command>" or "ERR <reason>" per command.
 * stdin, one command per line:
 *   topic NAME PARTITIONS        create a topic (the mock does not implement CreateTopics)
 *   down BROKER_ID / up BROKER_ID   take a broker down / bring it back
 *   rtt BROKER_ID MILLISECONDS   add round-trip latency to a broker
 *   error API_KEY ERROR_CODE COUNT   answer the next COUNT requests of that API (any broker) with that error
 *   quit                         stop (as does EOF on stdin, SIGTERM or SIGINT)
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stopping = 0;

static void on_signal(int sig) {
  (void)sig;
  stopping = 1;
}

static int create_topic(rd_kafka_mock_cluster_t *cluster, const char *name, int partitions) {
  rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(cluster, name, partitions, 1);
  if (err) {
    printf("ERR topic %s: %s\n", name, rd_kafka_err2str(err));
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  int brokers = 1;
  char errstr[512];
  setvbuf(stdout, NULL, _IOLBF, 0);

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc) brokers = atoi(argv[++i]);
  }
  if (brokers < 1) brokers = 1;

  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    fprintf(stderr, "mock-broker: %s\n", errstr);
    return 2;
  }
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    fprintf(stderr, "mock-broker: %s\n", errstr);
    return 2;
  }
  rd_kafka_mock_cluster_t *cluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (!cluster) {
    fprintf(stderr, "mock-broker: could not start the mock cluster\n");
    return 2;
  }

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc) {
      char spec[512];
      snprintf(spec, sizeof spec, "%s", argv[++i]);
      char *colon = strrchr(spec, ':');
      int partitions = 1;
      if (colon) {
        *colon = '\0';
        partitions = atoi(colon + 1);
      }
      if (create_topic(cluster, spec, partitions > 0 ? partitions : 1) != 0) return 2;
    }
  }

  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(cluster));

  char line[1024];
  while (!stopping && fgets(line, sizeof line, stdin)) {
    char command[32] = {0};
    char name[512] = {0};
    int a = 0;
    int b = 0;
    int fields = sscanf(line, "%31s %511s %d %d", command, name, &a, &b);
    if (fields < 1) continue;
    if (strcmp(command, "quit") == 0) break;
    if (strcmp(command, "topic") == 0 && fields == 3) {
      if (create_topic(cluster, name, a) == 0) printf("OK topic %s\n", name);
    } else if (strcmp(command, "down") == 0 && fields >= 2) {
      rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_down(cluster, atoi(name));
      printf(err ? "ERR down %s\n" : "OK down %s\n", name);
    } else if (strcmp(command, "up") == 0 && fields >= 2) {
      rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_up(cluster, atoi(name));
      printf(err ? "ERR up %s\n" : "OK up %s\n", name);
    } else if (strcmp(command, "rtt") == 0 && fields == 3) {
      rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_rtt(cluster, atoi(name), a);
      printf(err ? "ERR rtt %s\n" : "OK rtt %s\n", name);
    } else if (strcmp(command, "error") == 0 && fields == 4 && b > 0 && b <= 1000) {
      rd_kafka_resp_err_t errors[1000];
      for (int i = 0; i < b; i++) errors[i] = (rd_kafka_resp_err_t)a;
      rd_kafka_mock_push_request_errors_array(cluster, (int16_t)atoi(name), (size_t)b, errors);
      printf("OK error %s\n", name);
    } else {
      printf("ERR unknown command %s\n", command);
    }
  }

  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return 0;
}
