package dev.veriruntime.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.veriruntime.api.grpc.v1.GetEvidenceReply;
import dev.veriruntime.api.grpc.v1.GetEvidenceRequest;
import dev.veriruntime.api.grpc.v1.HealthReply;
import dev.veriruntime.api.grpc.v1.HealthRequest;
import dev.veriruntime.api.grpc.v1.ListRuntimeStateReply;
import dev.veriruntime.api.grpc.v1.ListRuntimeStateRequest;
import dev.veriruntime.api.grpc.v1.StreamEventsReply;
import dev.veriruntime.api.grpc.v1.StreamEventsRequest;
import dev.veriruntime.api.grpc.v1.SubmitAlertReply;
import dev.veriruntime.api.grpc.v1.SubmitAlertRequest;
import dev.veriruntime.api.grpc.v1.VeriRuntimeGrpc;
import dev.veriruntime.api.grpc.v1.VerifyBinaryReply;
import dev.veriruntime.api.grpc.v1.VerifyBinaryRequest;
import dev.veriruntime.api.grpc.v1.VerifyProcessReply;
import dev.veriruntime.api.grpc.v1.VerifyProcessRequest;
import dev.veriruntime.api.intake.AlertIntake;
import dev.veriruntime.api.intake.AlertReceipt;
import dev.veriruntime.api.intake.AlertRejected;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.LinkedHashSet;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.function.Function;

/**
 * The {@code veriruntime.v1.VeriRuntime} service over a {@link CoreApi} and an {@link EventFeed}.
 * Unary calls answer the same JSON the JSON API answers; at most {@code maxCalls} run at once, a
 * call beyond that is {@code UNAVAILABLE} at once (never queued without bound). Streams are pumped
 * by {@link StreamPump}. Thread safe.
 */
final class VeriRuntimeService extends VeriRuntimeGrpc.VeriRuntimeImplBase {
  private final CoreApi api;
  private final EventFeed feed;
  private final Semaphore calls;
  private final int maxCalls;
  private final Executor pumps;
  private final GrpcServer.Counters counters;
  private final AlertIntake intake;

  VeriRuntimeService(
      CoreApi api,
      EventFeed feed,
      AlertIntake intake,
      int maxCalls,
      Executor pumps,
      GrpcServer.Counters counters) {
    this.api = api;
    this.feed = feed;
    this.intake = intake;
    this.maxCalls = maxCalls;
    this.calls = new Semaphore(maxCalls);
    this.pumps = pumps;
    this.counters = counters;
  }

  @FunctionalInterface
  private interface Call {
    JsonNode invoke() throws ApiException;
  }

  @Override
  public void verifyProcess(VerifyProcessRequest req, StreamObserver<VerifyProcessReply> out) {
    unary(
        () -> api.verifyProcess(req.getPid()),
        json -> VerifyProcessReply.newBuilder().setVerdictJson(json).build(),
        out);
  }

  @Override
  public void verifyBinary(VerifyBinaryRequest req, StreamObserver<VerifyBinaryReply> out) {
    unary(
        () -> api.verifyBinary(binaryTarget(req)),
        json -> VerifyBinaryReply.newBuilder().setVerdictJson(json).build(),
        out);
  }

  @Override
  public void getEvidence(GetEvidenceRequest req, StreamObserver<GetEvidenceReply> out) {
    unary(
        () -> api.getEvidence(req.getRef()),
        json -> GetEvidenceReply.newBuilder().setEvidenceJson(json).build(),
        out);
  }

  @Override
  public void listRuntimeState(
      ListRuntimeStateRequest req, StreamObserver<ListRuntimeStateReply> out) {
    unary(
        api::listRuntimeState,
        json -> ListRuntimeStateReply.newBuilder().setStateJson(json).build(),
        out);
  }

  @Override
  public void health(HealthRequest req, StreamObserver<HealthReply> out) {
    unary(api::health, json -> HealthReply.newBuilder().setHealthJson(json).build(), out);
  }

  /**
   * The intake's one entry point, as {@code POST /v1/alerts}: an accepted alert is answered with
   * its receipt at once (the verification runs after), a refused one with {@code accepted = false}
   * and the reason; a daemon without the intake answers UNAVAILABLE.
   */
  @Override
  public void submitAlert(SubmitAlertRequest req, StreamObserver<SubmitAlertReply> out) {
    counters.calls.incrementAndGet();
    if (intake == null) {
      out.onError(
          Status.UNAVAILABLE
              .withDescription("the alert intake is not enabled on this daemon")
              .asRuntimeException());
      return;
    }
    SubmitAlertReply reply;
    try {
      AlertReceipt receipt = intake.submit(req.getFormat(), req.getBody().toByteArray(), "grpc");
      reply =
          SubmitAlertReply.newBuilder()
              .setAccepted(true)
              .setReason(receipt.action().name())
              .setAlertId(receipt.alertId())
              .setReceiptJson(ApiJson.mapper().valueToTree(receipt).toString())
              .build();
    } catch (AlertRejected e) {
      reply =
          SubmitAlertReply.newBuilder()
              .setAccepted(false)
              .setReason(e.reason().name() + ": " + e.getMessage())
              .build();
    }
    out.onNext(reply);
    out.onCompleted();
  }

  @Override
  public void streamEvents(StreamEventsRequest req, StreamObserver<StreamEventsReply> out) {
    counters.calls.incrementAndGet();
    ServerCallStreamObserver<StreamEventsReply> call =
        (ServerCallStreamObserver<StreamEventsReply>) out;
    if (feed == null) {
      call.onError(
          Status.UNAVAILABLE
              .withDescription("this server has no event feed: no events to stream")
              .asRuntimeException());
      return;
    }
    OptionalLong since =
        req.hasSinceSeq() ? OptionalLong.of(req.getSinceSeq()) : OptionalLong.empty();
    Set<String> types = new LinkedHashSet<>(req.getTypesList());
    StreamPump pump = new StreamPump(call, pumps, counters);
    EventFeed.Subscription subscription;
    try {
      subscription = feed.subscribe(since, types, pump::signal);
    } catch (ApiException e) {
      call.onError(GrpcStatuses.of(e).asRuntimeException());
      return;
    }
    pump.start(subscription);
  }

  private static String binaryTarget(VerifyBinaryRequest req) throws ApiException {
    return switch (req.getTargetCase()) {
      case PATH -> {
        if (!req.getPath().startsWith("/")) {
          throw new ApiException(
              ApiException.Code.BAD_REQUEST,
              "path must be absolute, got \"" + req.getPath() + "\"");
        }
        yield req.getPath();
      }
      case IDENTITY -> {
        if (req.getIdentity().startsWith("/")) {
          throw new ApiException(
              ApiException.Code.BAD_REQUEST, "identity must be DEV:INODE; use path for a path");
        }
        yield req.getIdentity();
      }
      case TARGET_NOT_SET ->
          throw new ApiException(
              ApiException.Code.BAD_REQUEST,
              "give a path (/absolute/path) or an identity DEV:INODE");
    };
  }

  private <R> void unary(Call call, Function<String, R> reply, StreamObserver<R> out) {
    counters.calls.incrementAndGet();
    if (!calls.tryAcquire()) {
      out.onError(
          Status.UNAVAILABLE
              .withDescription("the daemon is busy: " + maxCalls + " calls are running, try again")
              .asRuntimeException());
      return;
    }
    try {
      String json = ApiJson.mapper().writeValueAsString(call.invoke());
      out.onNext(reply.apply(json));
      out.onCompleted();
    } catch (ApiException e) {
      out.onError(GrpcStatuses.of(e).asRuntimeException());
    } catch (JsonProcessingException | RuntimeException e) {
      out.onError(Status.INTERNAL.withDescription("unexpected failure: " + e).asRuntimeException());
    } finally {
      calls.release();
    }
  }
}
