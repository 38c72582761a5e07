-- | A shopping cart: quantities per SKU.
module Shop.Cart
  ( Cart (..)
  , empty
  , add
  , remove
  , (.+.)
  , cartSize
  , checkout
  , mergeCarts
  ) where

import qualified Data.Map.Strict as Map
import Data.Time (Day)

import Shop.Types

newtype Cart = Cart { cartItems :: Map.Map Sku Int }
  deriving (Show, Eq)

empty :: Cart
empty = Cart Map.empty

add :: Sku -> Cart -> Cart
add sku (Cart m) = Cart (Map.insertWith (+) sku 1 m)

remove :: Sku -> Cart -> Cart
remove sku (Cart m) = Cart (Map.delete sku m)

-- | Combine two carts.
(.+.) :: Cart -> Cart -> Cart
Cart a .+. Cart b = Cart (Map.unionWith (+) a b)

infixl 6 .+.

cartSize :: Cart -> Int
cartSize (Cart m) = sum (Map.elems m)

mergeCarts :: [Cart] -> Cart
mergeCarts = foldr (.+.) empty

checkout :: (Sku -> Maybe Item) -> Day -> Int -> Cart -> Order
checkout find day oid (Cart m) = Order
  { orderId = oid
  , orderLines = [ OrderLine item n | (sku, n) <- Map.toList m, Just item <- [find sku] ]
  , orderStatus = Pending
  , placedOn = day
  , coupon = Nothing
  }
