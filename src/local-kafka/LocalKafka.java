/*
 * Runs an Apache Kafka server (kafka.Kafka, or any main class named first) and halts the JVM the moment its
 * standard input closes. The Node process that starts it holds the other end of that pipe, so the broker dies with
 * its parent however the parent ends (exit, crash, SIGKILL): no orphan JVMs. Found by reflection, so one compiled
 * class serves every Kafka version.
 */
public final class LocalKafka {
  private LocalKafka() {}

  public static void main(String[] args) throws Exception {
    Thread watchdog = new Thread(() -> {
      try {
        while (System.in.read() >= 0) {
          // Input is ignored; only its end matters.
        }
      } catch (java.io.IOException ignored) {
        // A broken pipe is the same news as an end of input.
      }
      Runtime.getRuntime().halt(137);
    }, "parent-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    String mainClass = args[0];
    String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
    Class.forName(mainClass).getMethod("main", String[].class).invoke(null, (Object) rest);
  }
}
