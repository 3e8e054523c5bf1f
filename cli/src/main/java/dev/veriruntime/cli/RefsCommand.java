package dev.veriruntime.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.verifier.reference.DsseEnvelope;
import dev.veriruntime.verifier.reference.InTotoStatement;
import dev.veriruntime.verifier.reference.KeyType;
import dev.veriruntime.verifier.reference.LoadedStatement;
import dev.veriruntime.verifier.reference.ManifestBuilder;
import dev.veriruntime.verifier.reference.ManifestPredicate;
import dev.veriruntime.verifier.reference.Reference;
import dev.veriruntime.verifier.reference.ReferenceException;
import dev.veriruntime.verifier.reference.ReferenceLoader;
import dev.veriruntime.verifier.reference.SignaturePolicy;
import dev.veriruntime.verifier.reference.SigningKey;
import dev.veriruntime.verifier.reference.TrustedKeys;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code veriruntime refs keygen|sign|verify}: make signing keys, sign reference statements, and
 * check signed reference files; {@code baseline|add} ({@link RefsScanCommand}) sign manifests of
 * whole directories, {@code import|list|diff} read statements made elsewhere. Formats, trust
 * decisions and exit codes are described in docs/references.md.
 */
@Command(
    name = "refs",
    mixinStandardHelpOptions = true,
    description =
        "Create and check signed reference statements (in-toto Statement v1 in a DSSE envelope).",
    subcommands = {
      RefsCommand.Keygen.class,
      RefsCommand.Sign.class,
      RefsCommand.Verify.class,
      RefsScanCommand.Baseline.class,
      RefsScanCommand.Add.class,
      RefsImportCommand.class,
      RefsListCommand.class,
      RefsDiffCommand.class
    })
public final class RefsCommand implements Runnable {
  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final ObjectWriter COMPACT = new ObjectMapper().writer();

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** The exit code for each kind of reference problem (documented in docs/references.md). */
  static CliException cliError(ReferenceException e) {
    int code =
        switch (e.kind()) {
          case UNREADABLE -> ExitCodes.INPUT_UNREADABLE;
          case MALFORMED -> ExitCodes.INPUT_MALFORMED;
          case SIGNATURE_INVALID -> ExitCodes.SIGNATURE_INVALID;
          case KEY_INVALID -> ExitCodes.KEY_INVALID;
        };
    return new CliException(code, e.getMessage(), e);
  }

  static TrustedKeys trustedKeys(List<Path> files) {
    try {
      return TrustedKeys.load(files);
    } catch (ReferenceException e) {
      throw cliError(e);
    }
  }

  static void printJson(PrintWriter out, Object tree) {
    try {
      out.println(JSON.writeValueAsString(tree));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    out.flush();
  }

  @Command(
      name = "keygen",
      mixinStandardHelpOptions = true,
      description =
          "Generate a key pair: PREFIX.key (PKCS#8 PEM, mode 0600) and PREFIX.pub (SPKI PEM).")
  static final class Keygen implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--type",
        required = true,
        paramLabel = "TYPE",
        description = "ed25519 or ecdsa-p256")
    String type;

    @Option(
        names = "--out",
        required = true,
        paramLabel = "PREFIX",
        description = "writes PREFIX.key and PREFIX.pub; neither may exist")
    Path prefix;

    @Option(names = "--json", description = "print the result as JSON")
    boolean json;

    @Override
    public Integer call() {
      KeyType keyType;
      try {
        keyType = KeyType.fromCliName(type);
      } catch (IllegalArgumentException e) {
        throw new CliException(ExitCodes.KEY_INVALID, e.getMessage());
      }
      Path priv = Path.of(prefix + ".key");
      Path pub = Path.of(prefix + ".pub");
      SigningKey key = SigningKey.generate(keyType);
      try {
        key.writeNew(priv, pub);
      } catch (FileAlreadyExistsException e) {
        throw new CliException(
            ExitCodes.OUTPUT_UNWRITABLE,
            e.getFile() + " already exists; refusing to overwrite a key");
      } catch (IOException e) {
        throw new CliException(
            ExitCodes.OUTPUT_UNWRITABLE, "cannot write " + priv + " / " + pub + ": " + describe(e));
      }
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        ObjectNode o = JSON.createObjectNode();
        o.put("type", keyType.cliName())
            .put("keyId", key.keyId())
            .put("privateKey", priv.toString())
            .put("publicKey", pub.toString());
        printJson(out, o);
      } else {
        out.printf(
            "%s key %s%n  private: %s (mode 0600, keep secret)%n  public:  %s (give to"
                + " --trusted-key)%n",
            keyType.cliName(), key.keyId(), priv, pub);
        out.flush();
      }
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "sign",
      mixinStandardHelpOptions = true,
      description = {
        "Sign an in-toto statement into a DSSE envelope.",
        "Either give STATEMENT.json (signed byte for byte), or --subject files to build a"
            + " VeriRuntime",
        "manifest (whole-file SHA-256, per-section SHA-256 and ELF facts) and sign that."
      })
  static final class Sign implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(
        names = "--key",
        required = true,
        paramLabel = "PRIV",
        description = "PKCS#8 PEM private key (from refs keygen)")
    Path key;

    @Option(
        names = "--out",
        required = true,
        paramLabel = "FILE",
        description = "where to write the envelope (replaced atomically)")
    Path out;

    @Option(
        names = "--predicate-type",
        paramLabel = "TYPE",
        description =
            "with --subject: predicate type (default ${DEFAULT-VALUE}); any other type gets an"
                + " empty predicate",
        defaultValue = ManifestPredicate.TYPE)
    String predicateType;

    @Option(
        names = "--subject",
        paramLabel = "PATH",
        description = "file to include as a subject (repeatable)")
    List<Path> subjects = new ArrayList<>();

    @Parameters(
        arity = "0..1",
        paramLabel = "STATEMENT.json",
        description = "a plain in-toto statement to sign")
    Path statement;

    @Option(names = "--json", description = "print the result as JSON")
    boolean json;

    @Override
    public Integer call() {
      if ((statement == null) == subjects.isEmpty()) {
        throw new CliException(
            ExitCodes.USAGE,
            "give either STATEMENT.json or --subject PATH..., not both or neither");
      }
      if (statement != null
          && spec.commandLine().getParseResult().hasMatchedOption("--predicate-type")) {
        throw new CliException(
            ExitCodes.USAGE,
            "--predicate-type applies to --subject; a statement file keeps its own");
      }
      SigningKey signingKey;
      byte[] payload;
      int subjectCount;
      try {
        signingKey = SigningKey.load(key);
        if (statement != null) {
          payload = ReferenceLoader.readStatementBytes(statement);
          subjectCount =
              InTotoStatement.fromJson(JSON.readTree(payload), statement.toString())
                  .subjects()
                  .size();
        } else {
          ManifestBuilder builder = new ManifestBuilder(predicateType);
          for (Path s : subjects) {
            builder.add(s);
          }
          InTotoStatement built = builder.build();
          payload = built.toJsonBytes();
          subjectCount = built.subjects().size();
        }
      } catch (ReferenceException e) {
        throw cliError(e);
      } catch (IOException e) {
        throw new CliException(
            ExitCodes.INPUT_MALFORMED, statement + " is not valid JSON: " + describe(e));
      }
      DsseEnvelope envelope =
          DsseEnvelope.sign(DsseEnvelope.IN_TOTO_PAYLOAD_TYPE, payload, signingKey);
      writeAtomically(out, envelope.toJsonBytes());
      PrintWriter o = spec.commandLine().getOut();
      if (json) {
        ObjectNode n = JSON.createObjectNode();
        n.put("out", out.toString())
            .put("keyId", signingKey.keyId())
            .put("keyType", signingKey.type().cliName())
            .put("subjects", subjectCount);
        printJson(o, n);
      } else {
        o.printf(
            "signed %d subject(s) with %s key %s -> %s%n",
            subjectCount, signingKey.type().cliName(), signingKey.keyId(), out);
        o.flush();
      }
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "verify",
      mixinStandardHelpOptions = true,
      description = "Check that a reference file is signed by a trusted key and list its subjects.")
  static final class Verify implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin SignedFile input;

    @Override
    public Integer call() {
      List<LoadedStatement> loaded = input.load();
      PrintWriter out = spec.commandLine().getOut();
      if (input.json) {
        ObjectNode root = JSON.createObjectNode();
        root.put("file", input.file.toString());
        statementsJson(root.putArray("statements"), loaded);
        printJson(out, root);
      } else {
        printStatements(out, input.file, loaded);
      }
      return ExitCodes.OK;
    }
  }

  /** A reference file every statement of which a trusted key must sign: verify and import. */
  static final class SignedFile {
    @Parameters(
        index = "0",
        paramLabel = "FILE",
        description = "DSSE envelope(s): one JSON object or JSON Lines")
    Path file;

    @Option(
        names = "--trusted-key",
        required = true,
        paramLabel = "PUB",
        description = "SPKI PEM public key to trust (repeatable)")
    List<Path> trustedKeys = new ArrayList<>();

    @Option(names = "--json", description = "print the result as JSON")
    boolean json;

    /** Every statement in the file; refused (12) unless a trusted key signed each one. */
    List<LoadedStatement> load() {
      return RefsCommand.load(file, trustedKeys, SignaturePolicy.REQUIRE_TRUSTED);
    }
  }

  /**
   * Each statement's signer and subjects, one line a subject, as {@code refs verify} prints them.
   */
  static void printStatements(PrintWriter out, Path file, List<LoadedStatement> loaded) {
    for (LoadedStatement s : loaded) {
      out.printf(
          "%s: signature OK, signed by %s%n  predicateType %s%n",
          file, s.source().signedByKeyId(), s.statement().predicateType());
      for (Reference r : s.references()) {
        out.printf(
            "  %s  %s%s%n",
            r.sha256(),
            r.name().isEmpty() ? "(no name)" : r.name(),
            r.sectionDigests().isEmpty()
                ? ""
                : "  [" + r.sectionDigests().size() + " section digests]");
      }
      if (s.skippedSubjects() > 0) {
        out.printf("  (%d subject(s) without a sha256 digest ignored)%n", s.skippedSubjects());
      }
    }
    out.flush();
  }

  /** Each statement with its signer and subjects, as {@code refs verify --json} prints them. */
  static void statementsJson(ArrayNode into, List<LoadedStatement> loaded) {
    for (LoadedStatement s : loaded) {
      ObjectNode st = into.addObject();
      st.put("signedBy", s.source().signedByKeyId());
      st.put("predicateType", s.statement().predicateType());
      st.put("payloadSha256", s.source().payloadSha256());
      st.put("skippedSubjects", s.skippedSubjects());
      ArrayNode subj = st.putArray("subjects");
      for (Reference r : s.references()) {
        ObjectNode o = subj.addObject().put("name", r.name()).put("sha256", r.sha256());
        ObjectNode sections = o.putObject("sections");
        new TreeMap<>(r.sectionDigests()).forEach(sections::put);
        ObjectNode elf = o.putObject("elf");
        new TreeMap<>(r.elfFacts()).forEach(elf::put);
      }
    }
  }

  /** Every statement in {@code file}, read under {@code policy} with these trusted keys. */
  static List<LoadedStatement> load(Path file, List<Path> keys, SignaturePolicy policy) {
    try {
      return new ReferenceLoader(trustedKeys(keys), policy).load(file);
    } catch (ReferenceException e) {
      throw cliError(e);
    }
  }

  /**
   * Adds {@code documents} (envelopes) to the reference file {@code target}, creating it if need
   * be, and rewrites it as JSON Lines; a document already there is not added twice.
   *
   * @return how many documents were added
   */
  static int mergeInto(Path target, List<JsonNode> documents) {
    List<JsonNode> all = new ArrayList<>();
    try {
      if (Files.exists(target)) {
        all.addAll(ReferenceLoader.readDocuments(target));
      }
    } catch (ReferenceException e) {
      throw cliError(e);
    }
    int added = 0;
    for (JsonNode d : documents) {
      if (!all.contains(d)) {
        all.add(d);
        added++;
      }
    }
    StringBuilder lines = new StringBuilder();
    try {
      for (JsonNode d : all) {
        lines.append(COMPACT.writeValueAsString(d)).append('\n');
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    writeAtomically(target, lines.toString().getBytes(StandardCharsets.UTF_8));
    return added;
  }

  /**
   * Fails early, before long work, when {@code target} cannot be an output file: it is a directory,
   * or its directory does not exist.
   */
  static void checkWritable(Path target) {
    Path abs = target.toAbsolutePath();
    if (Files.isDirectory(abs)) {
      throw new CliException(
          ExitCodes.OUTPUT_UNWRITABLE, "cannot write " + target + ": it is a directory");
    }
    Path parent = abs.getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      throw new CliException(
          ExitCodes.OUTPUT_UNWRITABLE,
          "cannot write " + target + ": directory " + parent + " does not exist");
    }
  }

  /**
   * Write to a temporary file beside {@code target}, then rename: readers never see half a file.
   */
  static void writeAtomically(Path target, byte[] bytes) {
    Path abs = target.toAbsolutePath();
    Path tmp = null;
    try {
      checkWritable(target);
      // createTempFile alone would make the file 0600; an envelope is public, so 0644 less umask.
      tmp =
          Files.createTempFile(
              abs.getParent(),
              "." + abs.getFileName(),
              ".tmp",
              PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--")));
      Files.write(tmp, bytes);
      Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // the original error is the one worth reporting
        }
      }
      throw new CliException(
          ExitCodes.OUTPUT_UNWRITABLE, "cannot write " + target + ": " + describe(e));
    }
  }

  static String describe(IOException e) {
    if (e instanceof NoSuchFileException) {
      return "no such file or directory";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    String m = e.getMessage();
    return m == null ? e.getClass().getSimpleName() : m.lines().findFirst().orElse(m);
  }
}
