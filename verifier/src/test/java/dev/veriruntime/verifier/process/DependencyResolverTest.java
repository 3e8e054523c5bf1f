package dev.veriruntime.verifier.process;

import static org.assertj.core.api.Assertions.assertThat;

import dev.veriruntime.verifier.FileIdentity;
import dev.veriruntime.verifier.elf.ElfFile;
import dev.veriruntime.verifier.elf.ElfHeader;
import dev.veriruntime.verifier.elf.ElfReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pure-Java closure against the loader itself ({@code ldd} asks ld.so to trace its loads). */
class DependencyResolverTest {
  private static final Pattern LDD_LINE =
      Pattern.compile("^\\s*(?:\\S+ => )?(/\\S+) \\(0x[0-9a-f]+\\)$");

  @TempDir Path dir;

  @Test
  void closureOfHostBinariesEqualsWhatTheLoaderLoads() throws Exception {
    DependencyResolver resolver = new DependencyResolver(LoaderConfiguration.host(), Path.of("/"));
    int compared = 0;
    for (String bin :
        List.of(
            "/usr/bin/ls",
            "/usr/bin/bash",
            "/usr/bin/openssl",
            "/usr/bin/ssh",
            "/usr/bin/python3",
            "/usr/bin/gdb",
            "/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
            "/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so")) {
      Path p = Path.of(bin);
      if (!Files.isRegularFile(p)) {
        continue;
      }
      Set<String> expected = ldd(p);
      ElfFile elf = ElfReader.create().read(p);
      DependencyClosure closure = resolver.resolve(elf, bin, List.of());
      Set<String> actual = new TreeSet<>();
      for (ResolvedLibrary l : closure.libraries()) {
        actual.add(l.kernelDev() + ":" + l.inode());
      }
      assertThat(actual).as("closure of %s: %s", bin, closure).isEqualTo(expected);
      assertThat(closure.unresolved()).isEmpty();
      compared++;
    }
    assertThat(compared).isGreaterThanOrEqualTo(3);
  }

  @Test
  void originRunpathAndLdLibraryPathAreHonoured() throws Exception {
    Assumptions.assumeTrue(TestPrograms.gcc() != null, "gcc needed");
    Path lib = dir.resolve("lib");
    Files.createDirectories(lib);
    Path src = dir.resolve("dep.c");
    Files.writeString(src, "int dep(void) { return 1; }\n");
    gcc("-shared", "-fPIC", "-o", lib.resolve("libdep.so").toString(), src.toString());
    Path main = dir.resolve("main.c");
    Files.writeString(main, "int dep(void);\nint main(void) { return dep(); }\n");
    Path withRunpath = dir.resolve("bin-runpath");
    gcc(
        "-o",
        withRunpath.toString(),
        main.toString(),
        "-L" + lib,
        "-ldep",
        "-Wl,--enable-new-dtags,-rpath,$ORIGIN/lib");
    Path plain = dir.resolve("bin-plain");
    gcc("-o", plain.toString(), main.toString(), "-L" + lib, "-ldep");

    DependencyResolver resolver = new DependencyResolver(LoaderConfiguration.host(), Path.of("/"));
    DependencyClosure viaRunpath =
        resolver.resolve(ElfReader.create().read(withRunpath), withRunpath.toString(), List.of());
    assertThat(viaRunpath.libraries())
        .filteredOn(l -> l.name().equals("libdep.so"))
        .singleElement()
        .satisfies(
            l -> {
              assertThat(l.path()).isEqualTo(lib + "/libdep.so");
              assertThat(l.foundVia()).isEqualTo("RUNPATH of " + withRunpath);
            });

    DependencyClosure missing =
        resolver.resolve(ElfReader.create().read(plain), plain.toString(), List.of());
    assertThat(missing.unresolved()).containsExactly("libdep.so (needed by " + plain + ")");
    DependencyClosure viaEnv =
        resolver.resolve(ElfReader.create().read(plain), plain.toString(), List.of(lib.toString()));
    assertThat(viaEnv.libraries())
        .filteredOn(l -> l.name().equals("libdep.so"))
        .singleElement()
        .satisfies(l -> assertThat(l.foundVia()).isEqualTo("LD_LIBRARY_PATH"));
    assertThat(viaEnv.unresolved()).isEmpty();
  }

  @Test
  void expandsLoaderVariables() {
    assertThat(DependencyResolver.expand("$ORIGIN/../lib", "/opt/app/bin/app", ElfHeader.EM_X86_64))
        .isEqualTo("/opt/app/bin/../lib");
    assertThat(
            DependencyResolver.expand("${ORIGIN}:/x/$LIB/$PLATFORM", "/app", ElfHeader.EM_X86_64))
        .isEqualTo("/:/x/lib/x86_64-linux-gnu/x86_64");
    assertThat(DependencyResolver.expand("$ORIGIN/lib", "/memfd:x", ElfHeader.EM_X86_64))
        .isEqualTo("/lib");
  }

  @Test
  void readsLdSoConfIncludesInOrderAndThePreloadFile() throws IOException {
    Path etc = Files.createDirectories(dir.resolve("etc"));
    Path d = Files.createDirectories(etc.resolve("ld.so.conf.d"));
    Files.writeString(
        etc.resolve("ld.so.conf"),
        "# comment\n/first/dir\ninclude /etc/ld.so.conf.d/*.conf\n/last:/also/last\n");
    Files.writeString(d.resolve("b.conf"), "/from/b # trailing comment\n");
    Files.writeString(d.resolve("a.conf"), "/from/a/\n/first/dir\nhwcap 1 nosegneg\n");
    Files.writeString(d.resolve("ignored.txt"), "/not/included\n");
    Files.writeString(etc.resolve("ld.so.preload"), "/lib/libinject.so libother.so # why\n");

    LoaderConfiguration c = LoaderConfiguration.read(dir, ElfHeader.EM_X86_64);
    assertThat(c.configuredDirectories())
        .containsExactly("/first/dir", "/from/a", "/from/b", "/last", "/also/last");
    assertThat(c.systemPreload()).containsExactly("/lib/libinject.so", "libother.so");
    assertThat(c.defaultDirectories())
        .startsWith("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu");
    assertThat(
            LoaderConfiguration.read(dir.resolve("nothing"), ElfHeader.EM_AARCH64)
                .configuredDirectories())
        .isEmpty();
  }

  private static Set<String> ldd(Path binary) throws Exception {
    Process p = new ProcessBuilder("ldd", binary.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    Set<String> ids = new TreeSet<>();
    for (String line : out.split("\n")) {
      Matcher m = LDD_LINE.matcher(line);
      if (m.matches()) {
        Map<String, Object> a = Files.readAttributes(Path.of(m.group(1)), "unix:dev,ino");
        ids.add(FileIdentity.fromStat((Long) a.get("dev"), 0, 0, 0).dev() + ":" + a.get("ino"));
      }
    }
    return ids;
  }

  private static void gcc(String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of(TestPrograms.gcc()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
  }
}
