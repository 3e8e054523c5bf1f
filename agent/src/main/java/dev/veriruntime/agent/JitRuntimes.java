package dev.veriruntime.agent;

import dev.veriruntime.verifier.pkg.PackageDatabase;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * The default JIT allowance: the executables of known JIT runtimes (JVMs, node...) that the package
 * database vouches for, as SHA-256 digests. A package named in the policy ({@code
 * jit-runtime-packages}, shell-style globs such as {@code openjdk-*-jre-headless}) contributes each
 * of its files under a {@code bin/} directory whose bytes match the checksum the package recorded;
 * a file that differs (tampered) or cannot be read contributes nothing. The allowance stays by
 * digest: a copy of {@code java} elsewhere keeps it, another file at its path does not get it.
 * Stateless.
 */
final class JitRuntimes {
  private JitRuntimes() {}

  /** The digests of the vouched-for runtime executables of the packages {@code globs} name. */
  static Set<String> vouchedFor(PackageDatabase packages, List<String> globs) {
    Set<String> digests = new TreeSet<>();
    if (globs.isEmpty()) {
      return digests;
    }
    Predicate<String> named = matcher(globs);
    for (PackageDatabase.PackageFile f : packages.filesOf(named)) {
      if (!f.path().contains("/bin/")) {
        continue;
      }
      sha256IfVouched(packages, Path.of(f.path())).ifPresent(digests::add);
    }
    return digests;
  }

  static Predicate<String> matcher(List<String> globs) {
    List<Pattern> patterns =
        globs.stream()
            .map(g -> Pattern.compile(Pattern.quote(g).replace("*", "\\E.*\\Q")))
            .toList();
    return name -> patterns.stream().anyMatch(p -> p.matcher(name).matches());
  }

  private static Optional<String> sha256IfVouched(PackageDatabase packages, Path file) {
    if (!Files.isRegularFile(file) || !Files.isExecutable(file)) {
      return Optional.empty();
    }
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      if (packages.check(file.toString(), ch).orElse(null) != PackageDatabase.Match.MATCHES) {
        return Optional.empty();
      }
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      ByteBuffer buf = ByteBuffer.allocate(1 << 16);
      long pos = 0;
      int n;
      while ((n = ch.read(buf, pos)) > 0) {
        buf.flip();
        sha.update(buf);
        buf.clear();
        pos += n;
      }
      return Optional.of(HexFormat.of().formatHex(sha.digest()));
    } catch (IOException | NoSuchAlgorithmException e) {
      return Optional.empty();
    }
  }
}
