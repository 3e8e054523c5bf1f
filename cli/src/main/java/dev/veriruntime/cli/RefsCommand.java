package dev.veriruntime.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.veriruntime.verifier.reference.DsseEnvelope;
import dev.veriruntime.verifier.reference.InTotoStatement;
import dev.veriruntime.verifier.reference.KeyType;
import dev.veriruntime.verifier.reference.LoadedStatement;
import dev.veriruntime.verifier.reference.ManifestBuilder;
import dev.veriruntime.verifier.reference.ManifestPredicate;
import dev.veriruntime.verifier.reference.ReferenceException;
import dev.veriruntime.verifier.reference.ReferenceLoader;
import dev.veriruntime.verifier.reference.SigningKey;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
  private static final ObjectMapper STATEMENT_READER = new ObjectMapper();

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
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
            ExitCodes.OUTPUT_UNWRITABLE,
            "cannot write " + priv + " / " + pub + ": " + IoErrors.describe(e));
      }
      PrintWriter out = spec.commandLine().getOut();
      if (json) {
        ObjectNode o = JsonOutput.object();
        o.put("type", keyType.cliName())
            .put("keyId", key.keyId())
            .put("privateKey", priv.toString())
            .put("publicKey", pub.toString());
        JsonOutput.print(out, o);
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
        "%nEither give STATEMENT.json (signed byte for byte), or --subject files to build a VeriRuntime manifest (whole-file SHA-256, per-section SHA-256 and ELF facts) and sign that."
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
              InTotoStatement.fromJson(STATEMENT_READER.readTree(payload), statement.toString())
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
        throw ExitCodes.failure(e);
      } catch (IOException e) {
        throw new CliException(
            ExitCodes.INPUT_MALFORMED, statement + " is not valid JSON: " + IoErrors.describe(e));
      }
      DsseEnvelope envelope =
          DsseEnvelope.sign(DsseEnvelope.IN_TOTO_PAYLOAD_TYPE, payload, signingKey);
      ReferenceFiles.writeAtomically(out, envelope.toJsonBytes());
      PrintWriter o = spec.commandLine().getOut();
      if (json) {
        ObjectNode n = JsonOutput.object();
        n.put("out", out.toString())
            .put("keyId", signingKey.keyId())
            .put("keyType", signingKey.type().cliName())
            .put("subjects", subjectCount);
        JsonOutput.print(o, n);
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

    @Mixin SignedFileOptions input;

    @Override
    public Integer call() {
      List<LoadedStatement> loaded = input.load();
      PrintWriter out = spec.commandLine().getOut();
      if (input.json) {
        ObjectNode root = JsonOutput.object();
        root.put("file", input.file.toString());
        StatementOutput.json(root.putArray("statements"), loaded);
        JsonOutput.print(out, root);
      } else {
        StatementOutput.print(out, input.file, loaded);
      }
      return ExitCodes.OK;
    }
  }
}
