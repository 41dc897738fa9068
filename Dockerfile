# syntax=docker/dockerfile:1
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /outagebot . && mkdir /data

# distroless/static has CA certificates and tzdata, runs as uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /outagebot /outagebot
# The database lives on a volume owned by the non-root user; the root
# filesystem can be mounted read-only.
COPY --from=build --chown=65532:65532 /data /data
VOLUME /data
ENV OUTAGEBOT_DB=/data/outagebot.db
USER nonroot:nonroot
ENTRYPOINT ["/outagebot"]
CMD ["run"]
