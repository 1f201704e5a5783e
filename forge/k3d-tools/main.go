// k3d-tools stand-in: the two commands k3d v5.9.0 runs in its tools container on a local Docker
// daemon. k3d's own tools module is not served by the Go module proxy, so kubelab builds this one.
//
//	k3d-tools noop                          keep the container alive until it is stopped
//	k3d-tools save-image -d DEST IMAGE...   `docker save` IMAGE... into DEST through the mounted socket
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
)

const dockerSocket = "/var/run/docker.sock"

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "noop":
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
		fmt.Println("Sleeping until stopped (as k3d-tools sleeps for 12h)")
		<-stop
	case "save-image":
		if len(os.Args) < 5 || os.Args[2] != "-d" {
			usage()
		}
		if err := saveImages(os.Args[3], os.Args[4:]); err != nil {
			fmt.Fprintf(os.Stderr, "k3d-tools save-image: %v\n", err)
			os.Exit(1)
		}
	case "version", "--version", "-v":
		fmt.Println("k3d-tools version v5.9.0 (kubelab stand-in)")
	default:
		usage()
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: k3d-tools noop | save-image -d DEST IMAGE... (kubelab stand-in for k3d-tools)")
	os.Exit(2)
}

// saveImages streams the Docker API's image export (GET /images/get) into dest, written to a
// temporary name first so a failed save never leaves a truncated tarball for k3d to import.
func saveImages(dest string, images []string) error {
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", dockerSocket)
		},
	}}
	query := url.Values{"names": images}
	response, err := client.Get("http://docker/images/get?" + query.Encode())
	if err != nil {
		return fmt.Errorf("docker API at %s: %w", dockerSocket, err)
	}
	defer response.Body.Close()
	if response.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(response.Body, 4096))
		return fmt.Errorf("docker API answered %s: %s", response.Status, body)
	}
	partial := dest + ".partial"
	file, err := os.Create(partial)
	if err != nil {
		return err
	}
	if _, err := io.Copy(file, response.Body); err != nil {
		file.Close()
		os.Remove(partial)
		return err
	}
	if err := file.Close(); err != nil {
		os.Remove(partial)
		return err
	}
	return os.Rename(partial, dest)
}
