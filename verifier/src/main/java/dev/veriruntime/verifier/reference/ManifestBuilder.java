package dev.veriruntime.verifier.reference;

import dev.veriruntime.verifier.elf.ElfFile;
import dev.veriruntime.verifier.elf.ElfReader;
import dev.veriruntime.verifier.elf.MalformedElfException;
import dev.veriruntime.verifier.hash.Sha256;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Builds an in-toto statement describing files on disk, ready to be signed: each file becomes a
 * subject named by its real path (absolute, symbolic links resolved, as the kernel reports an
 * executed file) with its whole-file SHA-256. With the {@link ManifestPredicate#TYPE} predicate it
 * also records per-section SHA-256 and ELF facts for ELF files; files that are not ELF (scripts)
 * get the digest only. Any other predicate type gets an empty predicate.
 *
 * <p>Not thread-safe: one builder per statement.
 *
 * <pre>{@code
 * InTotoStatement st = new ManifestBuilder(ManifestPredicate.TYPE).add(Path.of("/usr/bin/ls")).build();
 * DsseEnvelope env = DsseEnvelope.sign(DsseEnvelope.IN_TOTO_PAYLOAD_TYPE, st.toJsonBytes(), key);
 * }</pre>
 */
public final class ManifestBuilder {
  private static final ElfReader READER = ElfReader.create(ElfReader.Feature.SECTION_DIGESTS);
  private static final byte[] ELF_MAGIC = {0x7f, 'E', 'L', 'F'};

  private final String predicateType;
  private final Map<String, InTotoStatement.Subject> subjects = new LinkedHashMap<>();
  private final Map<String, ManifestPredicate.FileFacts> facts = new LinkedHashMap<>();

  public ManifestBuilder(String predicateType) {
    this.predicateType = Objects.requireNonNull(predicateType, "predicateType");
  }

  /**
   * Hash {@code file} (and, for manifests, its ELF sections) and add it as a subject; adding the
   * same real path twice keeps the last.
   *
   * @throws ReferenceException UNREADABLE if the file is missing, a directory, or unreadable;
   *     MALFORMED if it starts with the ELF magic but is not a well-formed ELF file
   */
  public ManifestBuilder add(Path file) throws ReferenceException {
    try {
      if (Files.isDirectory(file)) {
        throw new ReferenceException(
            ReferenceException.Kind.UNREADABLE, "subject " + file + " is a directory");
      }
      Path real = file.toRealPath();
      if (!Files.isRegularFile(real)) {
        throw new ReferenceException(
            ReferenceException.Kind.UNREADABLE, "subject " + file + " is not a regular file");
      }
      try (FileChannel ch = FileChannel.open(real, StandardOpenOption.READ)) {
        String name = real.toString();
        // Only a manifest records ELF facts: other predicate types do not parse the file at all.
        return add(
            ManifestPredicate.TYPE.equals(predicateType)
                ? describe(name, ch)
                : new Entry(name, Sha256.hex(ch), null));
      }
    } catch (NoSuchFileException e) {
      throw new ReferenceException(
          ReferenceException.Kind.UNREADABLE, "subject " + file + " does not exist");
    } catch (AccessDeniedException e) {
      throw new ReferenceException(
          ReferenceException.Kind.UNREADABLE,
          "subject " + file + " cannot be read: permission denied");
    } catch (IOException e) {
      throw new ReferenceException(
          ReferenceException.Kind.UNREADABLE,
          "subject " + file + " cannot be read: " + e.getMessage());
    } catch (MalformedElfException e) {
      throw new ReferenceException(
          ReferenceException.Kind.MALFORMED,
          "subject " + file + " is a malformed ELF file: " + e.getMessage());
    }
  }

  /**
   * What a manifest records about one file: its subject name, whole-file SHA-256 and, for ELF
   * files, section digests and ELF facts ({@code elf} is null for anything else). Made by {@link
   * #describe}, so that many files can be hashed on many threads and added to one builder after.
   */
  public record Entry(String name, String sha256, ManifestPredicate.FileFacts elf) {
    public Entry {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(sha256, "sha256");
    }
  }

  /**
   * Hash the file behind {@code channel} (positional reads; the channel is not closed) into an
   * entry named {@code name}. Touches no builder state: safe to call from any number of threads.
   *
   * @throws IOException if the file cannot be read
   * @throws MalformedElfException if it starts with the ELF magic but is not a well-formed ELF file
   */
  public static Entry describe(String name, FileChannel channel)
      throws IOException, MalformedElfException {
    String sha256 = Sha256.hex(channel);
    return new Entry(
        name, sha256, startsWithElfMagic(channel) ? facts(READER.read(channel)) : null);
  }

  /**
   * Add an entry made by {@link #describe}; its ELF facts are recorded only for manifests ({@link
   * ManifestPredicate#TYPE}). Adding the same name twice keeps the last.
   */
  public ManifestBuilder add(Entry entry) {
    String name = entry.name();
    subjects.put(name, new InTotoStatement.Subject(name, Map.of("sha256", entry.sha256())));
    if (entry.elf() != null && ManifestPredicate.TYPE.equals(predicateType)) {
      facts.put(name, entry.elf());
    } else {
      facts.remove(name);
    }
    return this;
  }

  /**
   * The ELF facts a manifest records; {@link dev.veriruntime.verifier.BinaryVerifier} reads the
   * same keys.
   */
  public static ManifestPredicate.FileFacts facts(ElfFile elf) {
    Map<String, String> e = new LinkedHashMap<>();
    e.put("class", elf.header().className());
    e.put("machine", elf.header().machineName());
    e.put("type", elf.header().typeName());
    elf.buildId().ifPresent(b -> e.put("buildId", b));
    elf.interpreter().ifPresent(i -> e.put("interpreter", i));
    return new ManifestPredicate.FileFacts(elf.sectionDigests(), e);
  }

  private static boolean startsWithElfMagic(FileChannel ch) throws IOException {
    ByteBuffer head = ByteBuffer.allocate(ELF_MAGIC.length);
    while (head.hasRemaining() && ch.read(head, head.position()) > 0) {
      // positional reads until 4 bytes or end of file
    }
    return startsWithElfMagic(head.flip());
  }

  /** Whether the remaining bytes of {@code head} start with the ELF magic; position unchanged. */
  public static boolean startsWithElfMagic(ByteBuffer head) {
    if (head.remaining() < ELF_MAGIC.length) {
      return false;
    }
    for (int i = 0; i < ELF_MAGIC.length; i++) {
      if (head.get(head.position() + i) != ELF_MAGIC[i]) {
        return false;
      }
    }
    return true;
  }

  public InTotoStatement build() {
    if (subjects.isEmpty()) {
      throw new IllegalStateException("a statement needs at least one subject");
    }
    List<InTotoStatement.Subject> list = new ArrayList<>(subjects.values());
    return InTotoStatement.of(
        list,
        predicateType,
        ManifestPredicate.TYPE.equals(predicateType)
            ? new ManifestPredicate(facts).toJson()
            : null);
  }
}
