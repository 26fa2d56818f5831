# Sourced by ./mvnw and ./attn4j: finds a JDK 25+ the way the toolchains plugin's discovery does
# (JAVA_HOME, then the usual install roots) and exports it as ATTN4J_JAVA_HOME. Prints one clear line
# and returns 1 when there is none.
attn4j_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}
attn4j_find_jdk() {
  local min=25 candidate major
  for candidate in "${ATTN4J_JAVA_HOME:-}" "${JAVA_HOME:-}" /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* \
      "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ] || continue
    major=$(attn4j_java_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge "$min" ]; then
      ATTN4J_JAVA_HOME=$candidate
      export ATTN4J_JAVA_HOME
      return 0
    fi
  done
  echo "attn4j needs a JDK $min or newer (javac included) and found none in JAVA_HOME, /usr/lib/jvm, /usr/java, /opt, ~/.sdkman or ~/.jdks: install one (e.g. Temurin 25) or point JAVA_HOME at it." >&2
  return 1
}
