#include "file_response.h"

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <random>
#include <string>

#include "byte_ranges.h"
#include "content_coding.h"
#include "preconditions.h"
#include "statuses.h"

namespace tiny_httpd {

using tiny_coro::HttpFileBody;
using tiny_coro::HttpResponse;
using tiny_coro::HttpSharedBytes;

namespace {

// Several ranges of a file on a descriptor are read into memory for the multipart body, up
// to this much; beyond it the whole file is sent instead (RFC 9110 §14.2 allows ignoring).
constexpr std::uint64_t kMaxMultipartRead = 8 << 20;

std::string content_range(const ByteRange& range, std::uint64_t size) {
  return "bytes " + std::to_string(range.first) + "-" +
         std::to_string(range.first + range.length - 1) + "/" + std::to_string(size);
}

// A boundary that the parts' content cannot be expected to contain (RFC 2046 §5.1.1).
std::string multipart_boundary() {
  thread_local std::mt19937_64 random{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string boundary = "tiny_httpd_";
  for (std::uint64_t bits = random(), i = 0; i < 16; ++i, bits >>= 4) boundary += kHex[bits & 15];
  return boundary;
}

bool read_range(const StaticFile& file, const ByteRange& range, std::string& out) {
  if (file.in_memory) {
    out.append(file.bytes, range.first, range.length);
    return true;
  }
  const std::size_t start = out.size();
  out.resize(start + range.length);
  for (std::uint64_t done = 0; done < range.length;) {
    const ssize_t n = ::pread(file.descriptor.get(), out.data() + start + done, range.length - done,
                              static_cast<off_t>(range.first + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::uint64_t>(n);
  }
  return true;
}

HttpResponse whole(const StaticFilePtr& file) {
  HttpResponse response;
  response.shared.owner = file;
  response.shared.head_fields = file->fields;
  if (file->in_memory) {
    response.shared.body = file->bytes;
  } else {
    response.file = HttpFileBody::borrow(file->descriptor.get(), 0, file->size);
  }
  return response;
}

HttpResponse single_range(const StaticFilePtr& file, const ByteRange& range) {
  HttpResponse response;
  response.status = 206;
  response.shared.owner = file;
  response.shared.head_fields = file->fields;
  response.headers.emplace_back("Content-Range", content_range(range, file->size));
  if (file->in_memory) {
    response.shared.body = std::string_view(file->bytes).substr(range.first, range.length);
  } else {
    response.file =
        HttpFileBody::borrow(file->descriptor.get(), static_cast<off_t>(range.first), range.length);
  }
  return response;
}

HttpResponse multipart(const StaticFilePtr& file, const std::vector<ByteRange>& ranges) {
  std::uint64_t total = 0;
  for (const ByteRange& range : ranges) total += range.length;
  if (!file->in_memory && total > kMaxMultipartRead) return whole(file);
  // A precompressed form: Content-Encoding would apply to the multipart body as a whole,
  // which is not what its parts are; RFC 9110 §14.2 lets the server send the whole instead.
  if (file->fields_but_content_type().find("Content-Encoding:") != std::string_view::npos)
    return whole(file);
  const std::string boundary = multipart_boundary();
  std::string body;
  for (const ByteRange& range : ranges) {
    body += "--" + boundary + "\r\nContent-Type: " + file->content_type +
            "\r\nContent-Range: " + content_range(range, file->size) + "\r\n\r\n";
    if (!read_range(*file, range, body)) return status_response(500);
    body += "\r\n";
  }
  body += "--" + boundary + "--\r\n";
  HttpResponse response =
      HttpResponse::text(206, std::move(body), "multipart/byteranges; boundary=" + boundary);
  response.shared = HttpSharedBytes{file, file->fields_but_content_type(), {}};
  return response;
}

}  // namespace

HttpResponse respond_with_resource(const StaticResource& resource,
                                   const tiny_coro::HttpRequest& request) {
  if (!resource.gzip && !resource.brotli) return respond_with_file(resource.identity, request);
  switch (choose_coding(request.get_header("Accept-Encoding"), resource.gzip != nullptr,
                        resource.brotli != nullptr)) {
    case Coding::kBrotli:
      return respond_with_file(resource.brotli, request);
    case Coding::kGzip:
      return respond_with_file(resource.gzip, request);
    case Coding::kIdentity:
      break;
  }
  return respond_with_file(resource.identity, request);
}

HttpResponse respond_with_file(const StaticFilePtr& file, const tiny_coro::HttpRequest& request) {
  const Validators current = file->validators();
  switch (evaluate_preconditions(request, &current, /*safe=*/true)) {
    case Precondition::kProceed:
      break;
    case Precondition::kNotModified: {
      HttpResponse not_modified;
      not_modified.status = 304;
      not_modified.shared = HttpSharedBytes{file, file->validator_fields(), {}};
      return not_modified;
    }
    case Precondition::kFailed:
      return status_response(412);
  }
  const std::string_view range_header = request.get_header("Range");
  if (range_header.empty() || request.method != "GET" || !if_range_holds(request, current))
    return whole(file);
  const RangeRequest ranges = parse_range(range_header, file->size);
  switch (ranges.verdict) {
    case RangeRequest::Verdict::kWhole:
      return whole(file);
    case RangeRequest::Verdict::kUnsatisfiable: {
      HttpResponse unsatisfiable = status_response(416);
      unsatisfiable.headers.emplace_back("Content-Range", "bytes */" + std::to_string(file->size));
      return unsatisfiable;
    }
    case RangeRequest::Verdict::kPartial:
      break;
  }
  if (ranges.ranges.size() == 1) return single_range(file, ranges.ranges.front());
  return multipart(file, ranges.ranges);
}

}  // namespace tiny_httpd
