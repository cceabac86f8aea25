package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"gopkg.in/yaml.v3"

	"github.com/causeway/causeway/broker"
	"github.com/causeway/causeway/server"
)

// nodeFlags are the flags shared by serve and dev; flags override the YAML
// file, which overrides the defaults.
type nodeFlags struct {
	config, data, http, kafka, region, fsync, logLevel, logFormat string
	maxMessageBytes                                               int
	autoCreate                                                    string
	console                                                       consoleFlag // console_flags.go
	geo                                                           geoFlags
	sec                                                           securityFlags
	cluster                                                       clusterFlags
}

// fileConfig is the YAML file: the node's settings, and its place in a
// region of many nodes (the cluster section).
type fileConfig struct {
	broker.Config `yaml:",inline"`
	Cluster       clusterFile `yaml:"cluster"`
	Console       bool        `yaml:"console"` // serve the web console at /console
}

func (f *nodeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.config, "config", "", "YAML configuration file")
	fs.StringVar(&f.data, "data", "", "data directory (default causeway-data)")
	fs.StringVar(&f.http, "http", "", "HTTP and WebSocket listen address (default 127.0.0.1:8080)")
	fs.StringVar(&f.kafka, "kafka", "", "Kafka protocol listen address (default off)")
	fs.StringVar(&f.region, "region", "", "this node's region name (default local)")
	fs.StringVar(&f.fsync, "fsync", "", "fsync policy: always (default), interval, never")
	fs.IntVar(&f.maxMessageBytes, "max-message-bytes", 0, "largest message payload (default 5 MiB)")
	fs.StringVar(&f.autoCreate, "auto-create-streams", "", "create streams on first use: true (default) or false")
	f.console.register(fs)
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn, error")
	fs.StringVar(&f.logFormat, "log-format", "auto", "console (readable lines, local time), json, or auto: console when stderr is a terminal, json otherwise")
	f.geo.register(fs)
	f.sec.register(fs)
	f.cluster.register(fs)
}

// load builds the node config: defaults, then the YAML file, then flags.
func (f *nodeFlags) load() (broker.Config, error) {
	cfg, _, err := f.loadAll()
	return cfg, err
}

// loadAll is load, and the node's place in a region of many nodes (nil:
// a region of one node).
func (f *nodeFlags) loadAll() (broker.Config, *server.RegionOptions, error) {
	var file fileConfig
	if f.config != "" {
		b, err := os.ReadFile(f.config)
		if err != nil {
			return file.Config, nil, fmt.Errorf("read config: %w", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&file); err != nil {
			return file.Config, nil, fmt.Errorf("parse config %s: %w", f.config, err)
		}
	}
	f.console.file = file.Console
	cfg, err := f.apply(file.Config)
	if err != nil {
		return cfg, nil, err
	}
	reg, err := f.cluster.options(file.Cluster)
	return cfg, reg, err
}

// apply lays the flags over the file's settings, then the defaults.
func (f *nodeFlags) apply(cfg broker.Config) (broker.Config, error) {
	if f.data != "" {
		cfg.DataDir = f.data
	}
	if f.http != "" {
		cfg.HTTPAddr = f.http
	}
	if f.kafka != "" {
		cfg.KafkaAddr = f.kafka
	}
	if f.region != "" {
		cfg.Region = f.region
	}
	if f.fsync != "" {
		cfg.Fsync = f.fsync
	}
	if f.maxMessageBytes != 0 {
		cfg.MaxMessageBytes = f.maxMessageBytes
	}
	switch f.autoCreate {
	case "":
	case "true", "false":
		v := f.autoCreate == "true"
		cfg.AutoCreateStreams = &v
	default:
		return cfg, fmt.Errorf("--auto-create-streams=%q: want true or false", f.autoCreate)
	}
	if err := f.geo.apply(&cfg); err != nil {
		return cfg, err
	}
	if err := f.sec.apply(&cfg); err != nil {
		return cfg, err
	}
	cfg = cfg.WithDefaults()
	return cfg, cfg.Validate()
}

func newLogger(level string) (*zap.Logger, error) { return newLoggerAs(level, "auto") }

// newLoggerAs is the node's logger at level, written to stderr as format:
// console, json, or auto (console on a terminal, where a person reads it;
// json elsewhere, where a program does).
func newLoggerAs(level, format string) (*zap.Logger, error) {
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level=%q: %w", level, err)
	}
	cfg := zap.NewProductionConfig()
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	cfg.Sampling = nil
	switch format {
	case "auto":
		if !stderrIsTerminal() {
			break
		}
		fallthrough
	case "console":
		cfg.Encoding = "console"
		cfg.DisableStacktrace = true // a person reads it: the message says what failed
		cfg.EncoderConfig.EncodeTime = zapcore.TimeEncoderOfLayout("2006-01-02 15:04:05.000 MST")
		cfg.EncoderConfig.EncodeLevel = zapcore.CapitalLevelEncoder
	case "json":
	default:
		return nil, fmt.Errorf("--log-format=%q: want auto, console or json", format)
	}
	return cfg.Build()
}

// stderrIsTerminal reports whether the process writes its logs to a
// terminal (a character device).
func stderrIsTerminal() bool {
	st, err := os.Stderr.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
