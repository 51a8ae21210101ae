// Boxed<T>: an optional value kept on the heap. The message model uses it for
// large parts that most commands lack (credentials, a DevInf), so that a Sync
// of hundreds of commands stays compact in memory. It reads like
// std::optional: `if (x)`, `x->field`, `*x`, `x = value`, `x.reset()`; and it
// copies deeply, so a Message stays a plain value.
#pragma once

#include <memory>
#include <utility>

namespace smk::wire {

template <typename T>
class Boxed {
public:
    Boxed() = default;
    Boxed(const T& value) : p_(std::make_unique<T>(value)) {}  // NOLINT: implicit, like std::optional
    Boxed(T&& value) : p_(std::make_unique<T>(std::move(value))) {}  // NOLINT
    Boxed(const Boxed& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
    Boxed(Boxed&&) noexcept = default;
    Boxed& operator=(const Boxed& o) {
        if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
        return *this;
    }
    Boxed& operator=(Boxed&&) noexcept = default;
    ~Boxed() = default;

    bool has_value() const { return p_ != nullptr; }
    explicit operator bool() const { return has_value(); }
    T& operator*() { return *p_; }
    const T& operator*() const { return *p_; }
    T* operator->() { return p_.get(); }
    const T* operator->() const { return p_.get(); }
    /// Makes a default value if there is none, and returns it.
    T& emplace() {
        if (!p_) p_ = std::make_unique<T>();
        return *p_;
    }
    void reset() { p_.reset(); }

    bool operator==(const Boxed& o) const { return p_ && o.p_ ? *p_ == *o.p_ : !p_ && !o.p_; }
    bool operator!=(const Boxed& o) const { return !(*this == o); }

private:
    std::unique_ptr<T> p_;
};

}  // namespace smk::wire
