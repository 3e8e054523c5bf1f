package dev.veriruntime.verifier.pkg;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PackageDatabaseTest {
  @TempDir Path dir;

  @Test
  void matchesAcrossMergedUsrAliasesAndDetectsChangedBytes() throws Exception {
    Path info = Files.createDirectories(dir.resolve("info"));
    Path file = dir.resolve("tool");
    Files.write(file, new byte[] {1, 2, 3});
    String md5 =
        HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(new byte[] {1, 2, 3}));
    Files.writeString(info.resolve("coreutils.md5sums"), md5 + "  bin/tool\nnot a line\n");
    Files.writeString(
        info.resolve("libfoo1:amd64.md5sums"), md5 + "  usr/lib/x86_64-linux-gnu/lib foo.so\n");

    PackageDatabase db = PackageDatabase.load(info);

    assertThat(db.size()).isEqualTo(2);
    assertThat(db.lookup("/usr/bin/tool"))
        .get()
        .extracting(PackageDatabase.PackageFile::packageName)
        .isEqualTo("coreutils");
    assertThat(db.lookup("/bin/tool")).isPresent();
    assertThat(db.lookup("/usr/lib/x86_64-linux-gnu/lib foo.so"))
        .get()
        .extracting(PackageDatabase.PackageFile::packageName)
        .isEqualTo("libfoo1");
    assertThat(db.lookup("/usr/bin/other")).isEmpty();

    try (FileChannel ch = FileChannel.open(file)) {
      assertThat(db.check("/usr/bin/tool", ch)).contains(PackageDatabase.Match.MATCHES);
    }
    Files.write(file, new byte[] {1, 2, 4});
    try (FileChannel ch = FileChannel.open(file)) {
      assertThat(db.check("/bin/tool", ch)).contains(PackageDatabase.Match.DIFFERS);
      assertThat(db.check("/usr/bin/none", ch)).isEmpty();
    }
  }

  @Test
  void recordsNameTheInstalledVersionFromTheStatusFileAndTheirMd5sumsLine() throws Exception {
    Path info = Files.createDirectories(dir.resolve("info"));
    String md5 = "0123456789abcdef0123456789abcdef";
    Files.writeString(info.resolve("coreutils.md5sums"), md5 + "  usr/bin/sleep\n");
    Files.writeString(info.resolve("libc6:amd64.md5sums"), md5 + "  usr/lib/libc.so.6\n");
    Files.writeString(info.resolve("orphan.md5sums"), md5 + "  usr/bin/orphan\n");
    Files.writeString(
        dir.resolve("status"),
        "Package: coreutils\nStatus: install ok installed\nVersion: 9.1-1\n\n"
            + "Package: libc6\nArchitecture: amd64\nVersion: 2.36-9+deb12u14\n");

    PackageDatabase db = PackageDatabase.load(info);

    PackageDatabase.PackageFile sleep = db.lookup("/usr/bin/sleep").orElseThrow();
    assertThat(sleep.version()).isEqualTo("9.1-1");
    assertThat(sleep.md5sumsLine()).isEqualTo(md5 + "  usr/bin/sleep");
    assertThat(sleep.listFile()).isEqualTo(info.resolve("coreutils.md5sums").toString());
    assertThat(db.lookup("/usr/lib/libc.so.6").orElseThrow().version())
        .isEqualTo("2.36-9+deb12u14");
    assertThat(db.lookup("/usr/bin/orphan").orElseThrow().version())
        .as("a package the status file does not list")
        .isEmpty();
  }

  @Test
  void changesNameAddedRemovedAndReChecksummedRecordsAcrossAliases() throws Exception {
    Path info = Files.createDirectories(dir.resolve("info"));
    String a = "0".repeat(32);
    String b = "1".repeat(32);
    Files.writeString(
        info.resolve("tool.md5sums"), a + "  bin/tool\n" + a + "  usr/share/doc/tool/README\n");
    Files.writeString(info.resolve("old.md5sums"), a + "  usr/bin/old\n");
    Files.writeString(info.resolve("moved.md5sums"), a + "  usr/bin/moved\n");
    PackageDatabase before = PackageDatabase.load(info);

    Files.writeString(
        info.resolve("tool.md5sums"),
        b.toUpperCase()
            + "  bin/tool\n"
            + a
            + "  usr/share/doc/tool/README\n"
            + a
            + "  usr/bin/tool-new\n");
    Files.delete(info.resolve("old.md5sums"));
    Files.delete(info.resolve("moved.md5sums"));
    Files.writeString(info.resolve("other.md5sums"), a + "  usr/bin/moved\n");
    PackageDatabase after = PackageDatabase.load(info);

    PackageDatabase.Changes changes = after.changesFrom(before);
    assertThat(changes.paths())
        .containsExactly("/usr/bin/old", "/usr/bin/tool", "/usr/bin/tool-new");
    assertThat(changes.packages()).containsExactly("old", "tool");
    assertThat(changes.affects("/bin/tool")).as("merged-/usr alias").isTrue();
    assertThat(changes.affects("/usr/bin/moved")).as("same checksum, other package").isFalse();
    assertThat(changes.affects("/usr/share/doc/tool/README")).isFalse();
    assertThat(before.changesFrom(before).isEmpty()).isTrue();
    assertThat(before.lookup("/usr/bin/tool"))
        .get()
        .extracting(PackageDatabase.PackageFile::md5)
        .isEqualTo(a);
  }

  @Test
  void findsThePackageCommandAnUnknownFileIsACopyOf() throws Exception {
    Path info = Files.createDirectories(dir.resolve("info"));
    Path tool =
        Files.write(
            Files.createDirectories(dir.resolve("usr/bin")).resolve("tool"), new byte[] {1, 2, 3});
    Path twin = Files.write(dir.resolve("usr/bin/tool-1.0"), new byte[] {1, 2, 3});
    Path doc =
        Files.write(
            Files.createDirectories(dir.resolve("usr/share/doc")).resolve("readme"),
            new byte[] {4, 5});
    String md5 =
        HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(new byte[] {1, 2, 3}));
    String docMd5 =
        HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(new byte[] {4, 5}));
    Files.writeString(
        info.resolve("tool.md5sums"),
        md5
            + "  "
            + twin.toString().substring(1)
            + "\n"
            + md5
            + "  "
            + tool.toString().substring(1)
            + "\n"
            + docMd5
            + "  "
            + doc.toString().substring(1)
            + "\n");
    PackageDatabase db = PackageDatabase.load(info);

    Path copy = Files.write(dir.resolve("sshd"), new byte[] {1, 2, 3});
    try (FileChannel ch = FileChannel.open(copy)) {
      assertThat(db.executableWithSameContent(ch))
          .get()
          .extracting(PackageDatabase.PackageFile::path)
          .as("the shorter of two identical commands")
          .isEqualTo(tool.toString());
    }
    Path docCopy = Files.write(dir.resolve("notes"), new byte[] {4, 5});
    try (FileChannel ch = FileChannel.open(docCopy)) {
      assertThat(db.executableWithSameContent(ch))
          .as("only commands (bin, sbin) are indexed")
          .isEmpty();
    }
    Path other = Files.write(dir.resolve("other"), new byte[] {1, 2, 4});
    try (FileChannel ch = FileChannel.open(other)) {
      assertThat(db.executableWithSameContent(ch)).isEmpty();
    }
  }

  @Test
  void aCommandMissingFromDiskDoesNotMakeEveryUnknownFileHashed() throws Exception {
    Path info = Files.createDirectories(dir.resolve("info"));
    Path tool =
        Files.write(
            Files.createDirectories(dir.resolve("usr/bin")).resolve("tool"), new byte[] {1, 2, 3});
    Path gone = dir.resolve("usr/bin/removed");
    String md5 =
        HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(new byte[] {1, 2, 3}));
    Files.writeString(
        info.resolve("tool.md5sums"),
        md5
            + "  "
            + tool.toString().substring(1)
            + "\n"
            + "0123456789abcdef0123456789abcdef  "
            + gone.toString().substring(1)
            + "\n");
    PackageDatabase db = PackageDatabase.load(info);

    assertThat(db.mayHoldACopy(3)).as("the size of the command on disk").isTrue();
    assertThat(db.mayHoldACopy(1 << 20)).as("any other size: not hashed").isFalse();
    Path copy = Files.write(dir.resolve("sshd"), new byte[] {1, 2, 3});
    try (FileChannel ch = FileChannel.open(copy)) {
      assertThat(db.executableWithSameContent(ch))
          .get()
          .extracting(PackageDatabase.PackageFile::path)
          .isEqualTo(tool.toString());
    }
  }

  @Test
  void manyRecordsAreEachFoundWithTheirOwnChecksumAndNonAsciiPaths() throws Exception {
    Path info = Files.createDirectories(dir.resolve("info"));
    int n = 20_000;
    StringBuilder first = new StringBuilder();
    StringBuilder second = new StringBuilder();
    for (int i = 0; i < n; i++) {
      String line = String.format("%032x  usr/share/d%d/f\u00e9%d%n", i, i % 97, i);
      (i % 2 == 0 ? first : second).append(line);
    }
    Files.writeString(info.resolve("a.md5sums"), first);
    Files.writeString(info.resolve("b.md5sums"), second);
    // Recorded twice (under an alias and canonically): one record, as in a map keyed by path.
    Files.writeString(info.resolve("c.md5sums"), "f".repeat(32) + "  bin/twice\n");
    Files.writeString(info.resolve("d.md5sums"), "e".repeat(32) + "  bin/twice\n");

    PackageDatabase db = PackageDatabase.load(info);

    assertThat(db.size()).isEqualTo(n + 1);
    for (int i = 0; i < n; i++) {
      PackageDatabase.PackageFile f =
          db.lookup("/usr/share/d" + (i % 97) + "/f\u00e9" + i).orElseThrow();
      assertThat(f.md5()).isEqualTo(String.format("%032x", i));
      assertThat(f.packageName()).isEqualTo(i % 2 == 0 ? "a" : "b");
    }
    assertThat(db.lookup("/usr/share/d0/f\u00e9" + n)).isEmpty();
    assertThat(db.lookup("/usr/bin/twice").orElseThrow().path()).isEqualTo("/bin/twice");
    assertThat(db.filesOf("a"::equals)).hasSize(n / 2);
    assertThat(db.changesFrom(db).isEmpty()).isTrue();
    assertThat(db.changesFrom(PackageDatabase.empty()).paths()).hasSize(n + 1);
    assertThat(PackageDatabase.empty().changesFrom(db).packages()).hasSize(3);
  }

  @Test
  void missingDatabaseIsEmpty() throws IOException {
    assertThat(PackageDatabase.load(dir.resolve("absent")).size()).isZero();
  }

  @Test
  void thisHostsDatabaseVouchesForItsOwnLs() throws IOException {
    Path ls = Path.of("/usr/bin/ls");
    if (!Files.isDirectory(PackageDatabase.DEFAULT_INFO_DIR) || !Files.isReadable(ls)) {
      return; // not a Debian host; covered by the synthetic test above
    }
    PackageDatabase db = PackageDatabase.load(PackageDatabase.DEFAULT_INFO_DIR);
    try (FileChannel ch = FileChannel.open(ls)) {
      assertThat(db.check("/usr/bin/ls", ch)).contains(PackageDatabase.Match.MATCHES);
    }
  }
}
